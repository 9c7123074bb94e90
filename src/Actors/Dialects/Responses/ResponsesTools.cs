using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// The Responses request's tool and output-format fields in chat form: function tools are flat in Responses
/// (<c>{type, name, parameters}</c>) and nested in chat (<c>{type, function: {name, parameters}}</c>); namespace and
/// custom tools are read into the <see cref="ResponsesToolMap"/>, which says what each becomes. The built-in tools
/// (web search, file search, code interpreter, ...) run inside OpenAI's service, so a translation to other models
/// cannot offer them: they are dropped and named (<c>tools[7]:web_search</c>), as is any tool type not known here.
/// </summary>
internal static class ResponsesTools
{
    /// <summary>Reads a <c>tools</c> array (the request's, or an <c>additional_tools</c> item's) into <paramref name="map"/>.</summary>
    public static ApiError? Collect(JsonElement tools, string at, ResponsesToolMap map, List<string> dropped)
    {
        if (tools.ValueKind == JsonValueKind.Null) return null;
        if (tools.ValueKind != JsonValueKind.Array) return ResponsesRequest.InvalidType(at, "an array");
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (CollectOne(tool, $"{at}[{index++}]", null, map, dropped) is { } error) return error;
        }
        return null;
    }

    private static ApiError? CollectOne(JsonElement tool, string at, string? ns, ResponsesToolMap map, List<string> dropped)
    {
        if (tool.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType(at, "an object");
        if (!tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return ApiError.InvalidRequest($"Missing required parameter: '{at}.type'.", $"{at}.type", "missing_required_parameter");
        var kind = type.GetString()!;
        switch (kind)
        {
            case "function" or "custom":
                if (!tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
                    return ApiError.InvalidRequest($"Missing required parameter: '{at}.name'.", $"{at}.name", "missing_required_parameter");
                foreach (var field in tool.EnumerateObject())
                {
                    var known = kind == "function"
                        ? field.Name is "type" or "name" or "description" or "parameters" or "strict"
                        : field.Name is "type" or "name" or "description" or "format";
                    if (!known) dropped.Add($"{at}.{ResponsesRequest.Named(field.Name)}");
                }
                map.Add(kind == "function" ? ResponsesToolMap.ToolKind.Function : ResponsesToolMap.ToolKind.Custom, ns, name.GetString()!, tool);
                return null;
            case "namespace" when ns is null:
                if (!tool.TryGetProperty("name", out var nsName) || nsName.ValueKind != JsonValueKind.String || nsName.GetString()!.Length == 0)
                    return ApiError.InvalidRequest($"Missing required parameter: '{at}.name'.", $"{at}.name", "missing_required_parameter");
                if (!tool.TryGetProperty("tools", out var members) || members.ValueKind != JsonValueKind.Array)
                    return ApiError.InvalidRequest($"Missing required parameter: '{at}.tools'.", $"{at}.tools", "missing_required_parameter");
                var index = 0;
                foreach (var member in members.EnumerateArray())
                {
                    if (CollectOne(member, $"{at}.tools[{index++}]", nsName.GetString()!, map, dropped) is { } error) return error;
                }
                return null;
            default:
                // Hosted tools (web_search, file_search, mcp, ...) and types not known here: the upstream cannot run them.
                dropped.Add($"{at}:{ResponsesRequest.Named(kind)}");
                map.Declined++;
                return null;
        }
    }

    /// <summary>The declared tools as chat function tools; nothing when there are none.</summary>
    public static void WriteTools(ResponsesToolMap map, Utf8JsonWriter json)
    {
        if (map.IsEmpty) return;
        json.WriteStartArray("tools"u8);
        foreach (var tool in map.Tools)
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "function"u8);
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, tool.ChatName);
            if (tool.Kind == ResponsesToolMap.ToolKind.Function)
            {
                foreach (var field in tool.Definition.EnumerateObject())
                {
                    if (field.Name is "description" or "parameters" or "strict" && field.Value.ValueKind != JsonValueKind.Null) field.WriteTo(json);
                }
            }
            else WriteCustom(tool.Definition, json);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>A freeform tool as a function of one string; its grammar, if it has one, told in the description.</summary>
    private static void WriteCustom(JsonElement definition, Utf8JsonWriter json)
    {
        var description = definition.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
        if (definition.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var formatType) && formatType.ValueEquals("grammar")
            && format.TryGetProperty("definition", out var grammar) && grammar.ValueKind == JsonValueKind.String)
        {
            var syntax = format.TryGetProperty("syntax", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : "grammar";
            description += $"\n\nThe `{ResponsesToolMap.CustomInputArgument}` argument is raw text (not JSON) that must match this {syntax} grammar:\n{grammar.GetString()}";
        }
        if (description.Length > 0) json.WriteString("description"u8, description);
        json.WriteStartObject("parameters"u8);
        json.WriteString("type"u8, "object"u8);
        json.WriteStartObject("properties"u8);
        json.WriteStartObject(ResponsesToolMap.CustomInputArgument);
        json.WriteString("type"u8, "string"u8);
        json.WriteString("description"u8, "The tool's whole input, as raw text."u8);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartArray("required"u8);
        json.WriteStringValue(ResponsesToolMap.CustomInputArgument);
        json.WriteEndArray();
        json.WriteBoolean("additionalProperties"u8, false);
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>"auto" | "none" | "required"</c> as they are; a named function or custom tool nested as chat has it, under
    /// its chat name. A choice of a tool the translation cannot offer (a hosted one, <c>allowed_tools</c>, <c>mcp</c>)
    /// is dropped and named.
    /// </summary>
    public static ApiError? WriteToolChoice(JsonElement choice, ResponsesToolMap map, Utf8JsonWriter json, List<string> dropped)
    {
        if (choice.ValueKind == JsonValueKind.Null) return null;
        if (Check(choice, out var function, out var ns) is { } error) return error;
        if (function is null)
        {
            if (choice.ValueKind == JsonValueKind.String) json.WriteString("tool_choice"u8, choice.GetString());
            else dropped.Add($"tool_choice:{ResponsesRequest.Named(choice.GetProperty("type").GetString()!)}");
            return null;
        }
        if (map.ByClientName(ns, function) is not { } tool)
        {
            dropped.Add("tool_choice");
            return null;
        }
        json.WriteStartObject("tool_choice"u8);
        json.WriteString("type"u8, "function"u8);
        json.WriteStartObject("function"u8);
        json.WriteString("name"u8, tool.ChatName);
        json.WriteEndObject();
        json.WriteEndObject();
        return null;
    }

    /// <summary>Without tools, chat refuses any tool_choice: "none" and "auto" mean nothing then and are dropped; asking for a call is an error.</summary>
    public static ApiError? CheckToolChoiceWithoutTools(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.Null) return null;
        if (Check(choice, out var function, out _) is { } error) return error;
        if (choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none") return null;
        if (choice.ValueKind == JsonValueKind.Object && function is null) return null;   // a hosted tool's choice: dropped with the tool
        return ApiError.InvalidRequest("'tool_choice' asks for a tool call, but no function tools are given in 'tools'.", "tool_choice", "invalid_value");
    }

    private static ApiError? Check(JsonElement choice, out string? function, out string? ns)
    {
        function = ns = null;
        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() is "auto" or "none" or "required"
                ? null
                : ApiError.InvalidRequest($"Invalid value for 'tool_choice': '{ApiError.Quote(choice.GetString()!)}'. Expected 'auto', 'none', 'required' or a function.", "tool_choice", "invalid_value");
        }
        if (choice.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType("tool_choice", "a string or an object");
        if (!choice.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String)
            return ApiError.InvalidRequest("Missing required parameter: 'tool_choice.type'.", "tool_choice.type", "missing_required_parameter");
        if (t.GetString() is not ("function" or "custom")) return null;   // a hosted tool or allowed_tools: the caller drops it
        if (!choice.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
            return ApiError.InvalidRequest("Missing required parameter: 'tool_choice.name'.", "tool_choice.name", "missing_required_parameter");
        function = name.GetString();
        ns = choice.TryGetProperty("namespace", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return null;
    }

    /// <summary>
    /// <c>text.format</c>: <c>text</c> is the default and needs nothing; <c>json_object</c> is the same in chat;
    /// <c>json_schema</c> is flat in Responses and nested under <c>json_schema</c> in chat. <c>text.verbosity</c>
    /// is chat's <c>verbosity</c>.
    /// </summary>
    public static ApiError? WriteText(JsonElement text, Utf8JsonWriter json, List<string> dropped)
    {
        if (text.ValueKind == JsonValueKind.Null) return null;
        if (text.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType("text", "an object");
        foreach (var field in text.EnumerateObject())
        {
            switch (field.Name)
            {
                case "format":
                    if (WriteFormat(field.Value, json, dropped) is { } error) return error;
                    break;
                case "verbosity":
                    if (field.Value.ValueKind == JsonValueKind.Null) break;
                    if (field.Value.ValueKind != JsonValueKind.String) return ResponsesRequest.InvalidType("text.verbosity", "a string");
                    field.WriteTo(json);
                    break;
                default:
                    dropped.Add($"text.{ResponsesRequest.Named(field.Name)}");
                    break;
            }
        }
        return null;
    }

    private static ApiError? WriteFormat(JsonElement format, Utf8JsonWriter json, List<string> dropped)
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
                dropped.Add($"text.format:{ResponsesRequest.Named(type)}");
                return null;
        }
    }
}
