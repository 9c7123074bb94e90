using System.Text;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// A Responses <c>input</c> as chat messages. A string is one user message. Items: messages (<c>{type: "message"}</c>
/// or a bare <c>{role, content}</c>) keep their role (<c>developer</c> becomes <c>system</c>, which every upstream
/// kind reads); <c>function_call</c> items become the assistant's <c>tool_calls</c>, merged with the assistant
/// message and the calls right before them, since chat carries one assistant turn as one message; each
/// <c>function_call_output</c> becomes a <c>tool</c> message; a <c>reasoning</c> item's text rides on the next
/// assistant message as <c>reasoning_content</c> (its <c>encrypted_content</c> as <c>reasoning_signature</c>).
/// <c>call_id</c> is the tool call id both ways, unchanged, so results match their calls upstream. A
/// <c>custom_tool_call</c> is the call of its tool's chat function with its input wrapped (<c>{"input": ...}</c>),
/// its <c>custom_tool_call_output</c> a tool message; <c>additional_tools</c> items declare tools
/// (<see cref="CollectTools"/>) and are no message. A reasoning item's <c>encrypted_content</c> goes on only when
/// this relay wrote it (<see cref="SignaturePrefix"/>): another service's opaque reasoning means nothing to the
/// upstream and would make it refuse the turn. Item and part types not known here are dropped and named.
/// </summary>
internal static class ResponsesInput
{
    private sealed class Message(string role)
    {
        public string Role { get; } = role;
        public List<Part> Parts { get; } = [];
        public List<(string Id, string Name, string Arguments)>? ToolCalls { get; set; }
        public string? ToolCallId { get; init; }
        public string? Reasoning { get; set; }
        public string? Signature { get; set; }
    }

    /// <summary>
    /// Marks the <c>encrypted_content</c> this relay writes (a thinking signature from the upstream), so that a
    /// later turn can tell it from OpenAI's own encrypted reasoning, which only OpenAI can read.
    /// </summary>
    public const string SignaturePrefix = "orc1.";

    /// <summary>A text part (Url null) or an image part.</summary>
    private readonly record struct Part(string? Text, string? Url = null, string? Detail = null);

    /// <summary>The tools declared inside <c>input</c> (<c>additional_tools</c> items), read into <paramref name="map"/>.</summary>
    public static ApiError? CollectTools(JsonElement input, ResponsesToolMap map, List<string> dropped)
    {
        if (input.ValueKind != JsonValueKind.Array) return null;
        var index = 0;
        foreach (var item in input.EnumerateArray())
        {
            var at = $"input[{index++}]";
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type) || !type.ValueEquals("additional_tools")) continue;
            if (item.TryGetProperty("tools", out var tools) && ResponsesTools.Collect(tools, $"{at}.tools", map, dropped) is { } error) return error;
        }
        return null;
    }

    /// <param name="onlyNative">Set when an item needs state only a native Responses upstream keeps (an item reference).</param>
    public static ApiError? Write(JsonElement input, Utf8JsonWriter json, ResponsesToolMap map, List<string> dropped, ref ApiError? onlyNative)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            WriteText(json, "user", input.GetString()!);
            return null;
        }
        if (input.ValueKind != JsonValueKind.Array) return ResponsesRequest.InvalidType("input", "a string or an array of items");
        if (input.GetArrayLength() == 0)
            return ApiError.InvalidRequest("Invalid 'input': empty array. Expected a string or an array with at least one item.", "input", "empty_array");

        var messages = new List<Message>(input.GetArrayLength());
        string? reasoning = null, signature = null;
        var index = 0;
        foreach (var item in input.EnumerateArray())
        {
            var at = $"input[{index++}]";
            if (item.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType(at, "an object");
            var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : null;
            if (type is null && item.TryGetProperty("role", out _)) type = "message";   // EasyInputMessage: {role, content}
            ApiError? error;
            Message? assistant = null;
            switch (type)
            {
                case "message":
                    error = ReadMessage(item, at, messages, dropped, out var message);
                    if (message?.Role == "assistant") assistant = message;
                    break;
                case "function_call" or "custom_tool_call":
                    error = ReadToolCall(item, at, type == "custom_tool_call", map, messages, out assistant);
                    break;
                case "function_call_output" or "custom_tool_call_output":
                    error = ReadToolCallOutput(item, at, messages, dropped);
                    break;
                case "reasoning":
                    error = ReadReasoning(item, at, ref reasoning, ref signature, dropped);
                    break;
                case "additional_tools":
                    error = null;   // read by CollectTools
                    break;
                case null:
                    error = ApiError.InvalidRequest($"Missing required parameter: '{at}.type'.", $"{at}.type", "missing_required_parameter");
                    break;
                case "item_reference":
                    onlyNative ??= ResponsesRequest.Unsupported($"{at}.type", "Item references are not supported on this route: the relay keeps no items, and only a provider speaking the Responses API natively has them; send the item itself.");
                    dropped.Add($"{at}:item_reference");
                    error = null;
                    break;
                default:
                    // Hosted tools' calls (web_search_call, local_shell_call, ...) and types not known here.
                    dropped.Add($"{at}:{ResponsesRequest.Named(type)}");
                    error = null;
                    break;
            }
            if (error is not null) return error;
            if (assistant is not null && (reasoning is not null || signature is not null))
            {
                assistant.Reasoning ??= reasoning;
                assistant.Signature ??= signature;
                reasoning = signature = null;
            }
        }

        foreach (var message in messages) WriteMessage(json, message);
        return null;
    }

    private static ApiError? ReadMessage(JsonElement item, string at, List<Message> messages, List<string> dropped, out Message? message)
    {
        message = null;
        if (!item.TryGetProperty("role", out var r) || r.ValueKind != JsonValueKind.String)
            return ApiError.InvalidRequest($"Missing required parameter: '{at}.role'.", $"{at}.role", "missing_required_parameter");
        var role = r.GetString() switch
        {
            "user" => "user",
            "assistant" => "assistant",
            "system" or "developer" => "system",
            _ => null,
        };
        if (role is null)
            return ApiError.InvalidRequest($"Invalid value for '{at}.role': '{ApiError.Quote(r.GetString()!)}'. Expected 'user', 'assistant', 'system' or 'developer'.", $"{at}.role", "invalid_value");
        if (!item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            return ApiError.InvalidRequest($"Missing required parameter: '{at}.content'.", $"{at}.content", "missing_required_parameter");

        message = new Message(role);
        if (content.ValueKind == JsonValueKind.String) message.Parts.Add(new Part(content.GetString()!));
        else if (content.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var part in content.EnumerateArray())
            {
                if (ReadPart(part, $"{at}.content[{index++}]", role, message.Parts, dropped) is { } error) return error;
            }
        }
        else return ResponsesRequest.InvalidType($"{at}.content", "a string or an array of content parts");
        messages.Add(message);
        return null;
    }

    private static ApiError? ReadPart(JsonElement part, string at, string role, List<Part> parts, List<string> dropped)
    {
        if (part.ValueKind != JsonValueKind.Object) return ResponsesRequest.InvalidType(at, "an object");
        var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        switch (type)
        {
            case "input_text" or "output_text":
                if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    return ApiError.InvalidRequest($"Missing required parameter: '{at}.text'.", $"{at}.text", "missing_required_parameter");
                parts.Add(new Part(text.GetString()!));
                return null;
            case "refusal":
                // An earlier refusal the client sends back: the assistant's words, as text.
                if (part.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String) parts.Add(new Part(refusal.GetString()!));
                return null;
            case "input_image":
                if (role == "assistant") return ResponsesRequest.Unsupported($"{at}.type", "Images are accepted in user and system messages only.");
                if (part.TryGetProperty("file_id", out var file) && file.ValueKind != JsonValueKind.Null)
                    return ResponsesRequest.Unsupported($"{at}.file_id", "Images by 'file_id' are not supported: this relay keeps no files; send 'image_url' (a URL or a data: URL).");
                if (!part.TryGetProperty("image_url", out var url) || url.ValueKind != JsonValueKind.String)
                    return ApiError.InvalidRequest($"Missing required parameter: '{at}.image_url'.", $"{at}.image_url", "missing_required_parameter");
                var detail = part.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                parts.Add(new Part(null, url.GetString(), detail));
                return null;
            default:
                dropped.Add($"{at}:{ResponsesRequest.Named(type)}");
                return null;
        }
    }

    private static ApiError? ReadToolCall(JsonElement item, string at, bool custom, ResponsesToolMap map, List<Message> messages, out Message? assistant)
    {
        assistant = null;
        if (Required(item, at, "call_id", out var callId) is { } e1) return e1;
        if (Required(item, at, "name", out var name) is { } e2) return e2;
        var ns = item.TryGetProperty("namespace", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        string arguments;
        if (custom)
        {
            var text = item.TryGetProperty("input", out var i) && i.ValueKind != JsonValueKind.Null ? i : default;
            if (text.ValueKind is not (JsonValueKind.String or JsonValueKind.Undefined)) return ResponsesRequest.InvalidType($"{at}.input", "a string");
            arguments = WrapCustomInput(text.ValueKind == JsonValueKind.String ? text.GetString()! : "");
        }
        else
        {
            arguments = "{}";
            if (item.TryGetProperty("arguments", out var a) && a.ValueKind != JsonValueKind.Null)
            {
                if (a.ValueKind != JsonValueKind.String) return ResponsesRequest.InvalidType($"{at}.arguments", "a string");
                arguments = a.GetString()!.Length == 0 ? "{}" : a.GetString()!;
            }
        }
        // One assistant turn: its text (a message item) and its calls (function_call items) in one chat message.
        assistant = messages.Count > 0 && messages[^1].Role == "assistant" ? messages[^1] : null;
        if (assistant is null)
        {
            assistant = new Message("assistant");
            messages.Add(assistant);
        }
        (assistant.ToolCalls ??= []).Add((callId, map.ChatNameOf(ns, name), arguments));
        return null;
    }

    /// <summary>A custom tool's raw input as its chat function's arguments: <c>{"input": "..."}</c>.</summary>
    internal static string WrapCustomInput(string input)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(input.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(ResponsesToolMap.CustomInputArgument, input);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static ApiError? ReadToolCallOutput(JsonElement item, string at, List<Message> messages, List<string> dropped)
    {
        if (Required(item, at, "call_id", out var callId) is { } error) return error;
        if (!item.TryGetProperty("output", out var output) || output.ValueKind == JsonValueKind.Null)
            return ApiError.InvalidRequest($"Missing required parameter: '{at}.output'.", $"{at}.output", "missing_required_parameter");
        var message = new Message("tool") { ToolCallId = callId };
        if (output.ValueKind == JsonValueKind.String) message.Parts.Add(new Part(output.GetString()!));
        else if (output.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            var text = new StringBuilder();
            foreach (var part in output.EnumerateArray())
            {
                var partAt = $"{at}.output[{index++}]";
                var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                // Chat tool messages carry text only: the parts' texts as one (what a tool printed in pieces is one output).
                if (type is not ("input_text" or "output_text") || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
                {
                    dropped.Add($"{partAt}:{ResponsesRequest.Named(type)}");
                    continue;
                }
                text.Append(value.GetString());
            }
            message.Parts.Add(new Part(text.ToString()));
        }
        else message.Parts.Add(new Part(output.GetRawText()));   // another shape (an object, a number): its JSON is the tool's text
        messages.Add(message);
        return null;
    }

    /// <summary>The model's own reasoning text (<c>content</c>), or else its summary; the signature from <c>encrypted_content</c>.</summary>
    private static ApiError? ReadReasoning(JsonElement item, string at, ref string? reasoning, ref string? signature, List<string> dropped)
    {
        var text = Texts(item, "content", "reasoning_text") ?? Texts(item, "summary", "summary_text");
        if (text is { Length: > 0 }) reasoning = reasoning is null ? text : reasoning + text;
        if (item.TryGetProperty("encrypted_content", out var encrypted) && encrypted.ValueKind != JsonValueKind.Null)
        {
            if (encrypted.ValueKind != JsonValueKind.String) return ResponsesRequest.InvalidType($"{at}.encrypted_content", "a string");
            var value = encrypted.GetString()!;
            if (value.StartsWith(SignaturePrefix, StringComparison.Ordinal)) signature = value[SignaturePrefix.Length..];
            else if (!dropped.Contains("reasoning.encrypted_content")) dropped.Add("reasoning.encrypted_content");   // OpenAI's own: only OpenAI reads it
        }
        return null;
    }

    private static string? Texts(JsonElement item, string name, string partType)
    {
        if (!item.TryGetProperty(name, out var parts) || parts.ValueKind != JsonValueKind.Array || parts.GetArrayLength() == 0) return null;
        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueEquals(partType)
                && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                text.Append(value.GetString());
        }
        return text.ToString();
    }

    private static ApiError? Required(JsonElement item, string at, string name, out string value)
    {
        value = "";
        if (!item.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String || element.GetString()!.Length == 0)
            return ApiError.InvalidRequest($"Missing required parameter: '{at}.{name}'.", $"{at}.{name}", "missing_required_parameter");
        value = element.GetString()!;
        return null;
    }

    private static void WriteText(Utf8JsonWriter json, string role, string text)
    {
        json.WriteStartObject();
        json.WriteString("role"u8, role);
        json.WriteString("content"u8, text);
        json.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter json, Message message)
    {
        json.WriteStartObject();
        json.WriteString("role"u8, message.Role);
        if (message.Parts.Count > 1 || message.Parts.Exists(p => p.Url is not null))
        {
            json.WriteStartArray("content"u8);
            foreach (var part in message.Parts)
            {
                json.WriteStartObject();
                if (part.Url is null)
                {
                    json.WriteString("type"u8, "text"u8);
                    json.WriteString("text"u8, part.Text);
                }
                else
                {
                    json.WriteString("type"u8, "image_url"u8);
                    json.WriteStartObject("image_url"u8);
                    json.WriteString("url"u8, part.Url);
                    if (part.Detail is not null) json.WriteString("detail"u8, part.Detail);
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        else if (message.Parts.Count == 1) json.WriteString("content"u8, message.Parts[0].Text);
        else if (message.Role == "assistant") json.WriteNull("content"u8);   // OpenAI: content is null when there are only tool calls
        else json.WriteString("content"u8, ""u8);
        if (message.ToolCallId is not null) json.WriteString("tool_call_id"u8, message.ToolCallId);
        if (message.Reasoning is not null) json.WriteString("reasoning_content"u8, message.Reasoning);
        if (message.Signature is not null) json.WriteString("reasoning_signature"u8, message.Signature);
        if (message.ToolCalls is { } calls)
        {
            ChatToolCalls.Write(json, calls);
        }
        json.WriteEndObject();
    }
}
