using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// The Responses request's tool and output-format fields in chat form: function tools are flat in Responses
/// (<c>{type, name, parameters}</c>) and nested in chat (<c>{type, function: {name, parameters}}</c>). The built-in
/// tools (web search, file search, code interpreter, ...) run inside OpenAI's service, so a relay to other models
/// cannot offer them: they are refused by name rather than dropped.
/// </summary>
internal static class ResponsesTools
{
    public static ApiError? WriteTools(JsonElement tools, Utf8JsonWriter json, out bool any)
    {
        any = false;
        if (tools.ValueKind == JsonValueKind.Null) return null;
        if (tools.ValueKind != JsonValueKind.Array) return ResponsesRequest.InvalidType("tools", "an array");
        if (tools.GetArrayLength() == 0) return null;
        json.WriteStartArray("tools"u8);
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType(at, "an object");
            if (!tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                return ApiError.InvalidRequest($"Missing required parameter: '{at}.type'.", $"{at}.type", "missing_required_parameter");
            if (type.GetString() != "function")
                return ResponsesRequest.Unsupported($"{at}.type", $"Tool type '{ApiError.Quote(type.GetString()!)}' is not supported by this relay: only function tools are (built-in tools run inside OpenAI's service).");
            if (!tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
                return ApiError.InvalidRequest($"Missing required parameter: '{at}.name'.", $"{at}.name", "missing_required_parameter");

            json.WriteStartObject();
            json.WriteString("type"u8, "function"u8);
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, name.GetString());
            foreach (var field in tool.EnumerateObject())
            {
                switch (field.Name)
                {
                    case "type" or "name":
                        break;
                    case "description" or "parameters" or "strict":
                        if (field.Value.ValueKind != JsonValueKind.Null) field.WriteTo(json);
                        break;
                    default:
                        return ApiError.InvalidRequest($"Unknown parameter: '{at}.{ApiError.Quote(field.Name)}'.", $"{at}.{ApiError.Quote(field.Name)}", "unknown_parameter");
                }
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        any = true;
        return null;
    }

    /// <summary><c>"auto" | "none" | "required"</c> as they are; <c>{type: "function", name}</c> nested as chat has it.</summary>
    public static ApiError? WriteToolChoice(JsonElement choice, Utf8JsonWriter json)
    {
        if (choice.ValueKind == JsonValueKind.Null) return null;
        if (Check(choice, out var function) is { } error) return error;
        if (function is null)
        {
            json.WriteString("tool_choice"u8, choice.GetString());
            return null;
        }
        json.WriteStartObject("tool_choice"u8);
        json.WriteString("type"u8, "function"u8);
        json.WriteStartObject("function"u8);
        json.WriteString("name"u8, function);
        json.WriteEndObject();
        json.WriteEndObject();
        return null;
    }

    /// <summary>Without tools, chat refuses any tool_choice: "none" and "auto" mean nothing then and are dropped; asking for a call is an error.</summary>
    public static ApiError? CheckToolChoiceWithoutTools(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.Null) return null;
        if (Check(choice, out _) is { } error) return error;
        if (choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none") return null;
        return ApiError.InvalidRequest("'tool_choice' asks for a tool call, but no function tools are given in 'tools'.", "tool_choice", "invalid_value");
    }

    private static ApiError? Check(JsonElement choice, out string? function)
    {
        function = null;
        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() is "auto" or "none" or "required"
                ? null
                : ApiError.InvalidRequest($"Invalid value for 'tool_choice': '{ApiError.Quote(choice.GetString()!)}'. Expected 'auto', 'none', 'required' or a function.", "tool_choice", "invalid_value");
        }
        if (choice.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType("tool_choice", "a string or an object");
        var type = choice.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        if (type != "function")
            return ResponsesRequest.Unsupported("tool_choice.type", $"tool_choice type '{ApiError.Quote(type)}' is not supported by this relay: name a function ({{\"type\": \"function\", \"name\": ...}}) or use 'auto', 'none' or 'required'.");
        if (!choice.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
            return ApiError.InvalidRequest("Missing required parameter: 'tool_choice.name'.", "tool_choice.name", "missing_required_parameter");
        function = name.GetString();
        return null;
    }

    /// <summary>
    /// <c>text.format</c>: <c>text</c> is the default and needs nothing; <c>json_object</c> is the same in chat;
    /// <c>json_schema</c> is flat in Responses and nested under <c>json_schema</c> in chat. <c>text.verbosity</c>
    /// is chat's <c>verbosity</c>.
    /// </summary>
    public static ApiError? WriteText(JsonElement text, Utf8JsonWriter json)
    {
        if (text.ValueKind == JsonValueKind.Null) return null;
        if (text.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType("text", "an object");
        foreach (var field in text.EnumerateObject())
        {
            switch (field.Name)
            {
                case "format":
                    if (WriteFormat(field.Value, json) is { } error) return error;
                    break;
                case "verbosity":
                    if (field.Value.ValueKind == JsonValueKind.Null) break;
                    if (field.Value.ValueKind != JsonValueKind.String) return ResponsesRequest.InvalidType("text.verbosity", "a string");
                    field.WriteTo(json);
                    break;
                default:
                    return ApiError.InvalidRequest($"Unknown parameter: 'text.{ApiError.Quote(field.Name)}'.", $"text.{ApiError.Quote(field.Name)}", "unknown_parameter");
            }
        }
        return null;
    }

    private static ApiError? WriteFormat(JsonElement format, Utf8JsonWriter json)
    {
        if (format.ValueKind == JsonValueKind.Null) return null;
        if (format.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType("text.format", "an object");
        var type = format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                json.WriteStartObject("response_format"u8);
                json.WriteString("type"u8, "json_object"u8);
                json.WriteEndObject();
                return null;
            case "json_schema":
                if (!format.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                    return ApiError.InvalidRequest("Missing required parameter: 'text.format.name'.", "text.format.name", "missing_required_parameter");
                if (!format.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                    return ApiError.InvalidRequest("Missing required parameter: 'text.format.schema'.", "text.format.schema", "missing_required_parameter");
                json.WriteStartObject("response_format"u8);
                json.WriteString("type"u8, "json_schema"u8);
                json.WriteStartObject("json_schema"u8);
                foreach (var field in format.EnumerateObject())
                {
                    if (field.Name is "name" or "schema" or "strict" or "description") field.WriteTo(json);
                }
                json.WriteEndObject();
                json.WriteEndObject();
                return null;
            default:
                return ApiError.InvalidRequest($"Invalid value for 'text.format.type': '{ApiError.Quote(type)}'. Expected 'text', 'json_object' or 'json_schema'.", "text.format.type", "invalid_value");
        }
    }
}
