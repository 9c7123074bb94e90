using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// Reads and validates an Anthropic Messages request (<c>POST /v1/messages</c>) and translates it into the engine's
/// OpenAI chat body. The caller's own body also travels on as <see cref="NativeRequest"/>, so an Anthropic upstream
/// loses nothing; the translation is what every other upstream reads, and it drops only what OpenAI chat cannot
/// express (<c>cache_control</c>, <c>top_k</c>, <c>thinking</c> budgets, redacted thinking).
/// <para>
/// Messages name the field the way Anthropic's own validation does (<c>messages.0.content.1.type: ...</c>) and quote
/// at most <see cref="ApiError.Quote"/> of anything the client sent.
/// </para>
/// </summary>
public static class MessagesRequest
{
    /// <param name="Dropped">What the chat body could not carry, named (<see cref="ChatRequest.Dropped"/>).</param>
    public sealed record Translation(byte[]? ChatBody, ApiError? Error)
    {
        public System.Collections.Immutable.ImmutableArray<string> Dropped { get; init; } = [];
    }

    // Top-level fields the chat body carries (or that only shape how it is written); any other is named as dropped.
    private static readonly HashSet<string> Translated =
        ["model", "max_tokens", "messages", "system", "tools", "tool_choice", "stop_sequences", "temperature", "top_p", "stream", "metadata"];

    private const string BlockTypes = "text, image, document, tool_use, tool_result, thinking, redacted_thinking";

    public static Translation Translate(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var dropped = new List<string>();
        try
        {
            using var json = new Utf8JsonWriter(buffer);
            Write(root, json, dropped);
        }
        catch (InvalidRequestException ex)
        {
            return new Translation(null, ApiError.InvalidRequest(ex.Message, ex.Param, "invalid_request"));
        }
        catch (InvalidOperationException)
        {
            return new Translation(null, JsonBody.BadString);
        }
        foreach (var property in root.EnumerateObject())
            if (!Translated.Contains(property.Name) && property.Value.ValueKind != JsonValueKind.Null) dropped.Add(property.Name);
        return new Translation(buffer.WrittenSpan.ToArray(), null) { Dropped = [.. dropped.Distinct()] };
    }

    private static void Write(JsonElement root, Utf8JsonWriter json, List<string> dropped)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidRequestException(null, "The request body must be a JSON object.");
        var model = RequiredString(root, "model", "model");
        if (model.Length == 0) throw new InvalidRequestException("model", "model: String should have at least 1 character");
        if (!root.TryGetProperty("max_tokens", out var maxTokens) || maxTokens.ValueKind == JsonValueKind.Null)
            throw new InvalidRequestException("max_tokens", "max_tokens: Field required");
        if (maxTokens.ValueKind != JsonValueKind.Number || !maxTokens.TryGetInt32(out var limit) || limit < 1)
            throw new InvalidRequestException("max_tokens", "max_tokens: Input should be a positive integer");

        json.WriteStartObject();
        json.WriteString("model"u8, model);
        json.WriteNumber("max_tokens"u8, limit);
        json.WriteStartArray("messages"u8);
        WriteSystem(root, json);
        WriteMessages(root, json, dropped);
        json.WriteEndArray();
        WriteTools(root, json, dropped);
        WriteSampling(root, json);
        json.WriteEndObject();
    }

    /// <summary>Anthropic's top-level <c>system</c> (a string or text blocks) becomes the first message.</summary>
    private static void WriteSystem(JsonElement root, Utf8JsonWriter json)
    {
        if (!Present(root, "system", out var system)) return;
        string text;
        if (system.ValueKind == JsonValueKind.String) text = system.GetString()!;
        else if (system.ValueKind == JsonValueKind.Array) text = SystemText(system, "system");
        else throw Expected("system", "a valid string or a list of text blocks");
        if (text.Length == 0) return;
        json.WriteStartObject();
        json.WriteString("role"u8, "system"u8);
        json.WriteString("content"u8, text);
        json.WriteEndObject();
    }

    /// <summary>System text blocks as one prompt: Claude Code sends its prompt in parts, for <c>cache_control</c>.</summary>
    private static string SystemText(JsonElement blocks, string path)
    {
        var joined = new StringBuilder();
        var i = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            var blockPath = $"{path}.{i++}";
            if (block.ValueKind != JsonValueKind.Object) throw Expected(blockPath, "a valid dictionary");
            var type = RequiredString(block, "type", $"{blockPath}.type");
            if (type != "text") throw new InvalidRequestException($"{blockPath}.type", $"{blockPath}.type: Input should be 'text', but got '{ApiError.Quote(type)}'");
            if (joined.Length > 0) joined.Append("\n\n");
            joined.Append(RequiredString(block, "text", $"{blockPath}.text"));
        }
        return joined.ToString();
    }

    /// <summary>A <c>system</c> message inside <c>messages</c> (the API accepts them between turns): an OpenAI system message in place.</summary>
    private static void WriteSystemMessage(JsonElement content, string path, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("role"u8, "system"u8);
        json.WriteString("content"u8, SystemText(content, path));
        json.WriteEndObject();
    }

    private static void WriteMessages(JsonElement root, Utf8JsonWriter json, List<string> dropped)
    {
        if (!Present(root, "messages", out var messages)) throw new InvalidRequestException("messages", "messages: Field required");
        if (messages.ValueKind != JsonValueKind.Array) throw Expected("messages", "a valid list");
        if (messages.GetArrayLength() == 0) throw new InvalidRequestException("messages", "messages: List should have at least 1 item after validation, not 0");
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var path = $"messages.{i++}";
            if (message.ValueKind != JsonValueKind.Object) throw Expected(path, "a valid dictionary");
            var role = RequiredString(message, "role", $"{path}.role");
            if (role is not ("user" or "assistant" or "system"))
                throw new InvalidRequestException($"{path}.role", $"{path}.role: Input should be 'user', 'assistant' or 'system', but got '{ApiError.Quote(role)}'");
            if (!Present(message, "content", out var content)) throw new InvalidRequestException($"{path}.content", $"{path}.content: Field required");
            if (content.ValueKind == JsonValueKind.String)
            {
                json.WriteStartObject();
                json.WriteString("role"u8, role);
                json.WriteString("content"u8, content.GetString());
                json.WriteEndObject();
                continue;
            }
            if (content.ValueKind != JsonValueKind.Array) throw Expected($"{path}.content", "a valid string or a list of content blocks");
            if (role == "system") WriteSystemMessage(content, $"{path}.content", json);
            else if (role == "user") WriteUser(content, $"{path}.content", json, dropped);
            else WriteAssistant(content, $"{path}.content", json, dropped);
        }
    }

    /// <summary>
    /// A user turn: each <c>tool_result</c> becomes an OpenAI <c>tool</c> message, placed first (OpenAI wants tool
    /// results right after the assistant turn that called them); the rest becomes one user message after them.
    /// </summary>
    private static void WriteUser(JsonElement content, string path, Utf8JsonWriter json, List<string> dropped)
    {
        var parts = new List<(string Path, JsonElement Block)>();
        var i = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockPath = $"{path}.{i++}";
            var type = BlockType(block, blockPath);
            switch (type)
            {
                case "tool_result":
                    WriteToolResult(block, blockPath, parts, json, dropped);
                    break;
                case "text" or "image" or "document":
                    parts.Add((blockPath, block));
                    break;
                case "tool_use" or "thinking" or "redacted_thinking":
                    throw new InvalidRequestException($"{blockPath}.type", $"{blockPath}.type: '{type}' blocks belong in an assistant message, not a user message");
                default:
                    dropped.Add($"content:{ApiError.Quote(type)}");   // a block type chat has no place for (server_tool_use, search results...)
                    break;
            }
        }
        if (i == 0) throw new InvalidRequestException(path, $"{path}: List should have at least 1 item after validation, not 0");
        if (parts.Count == 0) return;

        json.WriteStartObject();
        json.WriteString("role"u8, "user"u8);
        // One text block as a plain string: the form every OpenAI-compatible server accepts.
        if (parts.Count == 1 && parts[0].Block.GetProperty("type").ValueEquals("text"u8))
            json.WriteString("content"u8, RequiredString(parts[0].Block, "text", $"{parts[0].Path}.text"));
        else
        {
            json.WriteStartArray("content"u8);
            foreach (var (partPath, block) in parts) WritePart(block, partPath, json);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>tool_result</c> -> <c>{"role":"tool","tool_call_id":tool_use_id,"content":text}</c>. OpenAI tool messages
    /// carry text only, so the result's images join the user message that follows. <c>is_error</c> has no OpenAI
    /// counterpart; the result's own text is what tells the model.
    /// </summary>
    private static void WriteToolResult(JsonElement block, string path, List<(string, JsonElement)> parts, Utf8JsonWriter json, List<string> dropped)
    {
        var id = RequiredString(block, "tool_use_id", $"{path}.tool_use_id");
        if (Present(block, "is_error", out var isError) && isError.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw Expected($"{path}.is_error", "a valid boolean");
        var text = "";
        if (Present(block, "content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String) text = content.GetString()!;
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var joined = new StringBuilder();
                var i = 0;
                foreach (var inner in content.EnumerateArray())
                {
                    var innerPath = $"{path}.content.{i++}";
                    var type = BlockType(inner, innerPath);
                    if (type == "text")
                    {
                        if (joined.Length > 0) joined.Append('\n');
                        joined.Append(RequiredString(inner, "text", $"{innerPath}.text"));
                    }
                    else if (type is "image" or "document") parts.Add((innerPath, inner));
                    else dropped.Add($"tool_result:{ApiError.Quote(type)}");
                }
                text = joined.ToString();
            }
            else throw Expected($"{path}.content", "a valid string or a list of content blocks");
        }
        json.WriteStartObject();
        json.WriteString("role"u8, "tool"u8);
        json.WriteString("tool_call_id"u8, id);
        json.WriteString("content"u8, text);
        json.WriteEndObject();
    }

    /// <summary>A user content block as an OpenAI content part.</summary>
    private static void WritePart(JsonElement block, string path, Utf8JsonWriter json)
    {
        var type = block.GetProperty("type").GetString();
        json.WriteStartObject();
        if (type == "text")
        {
            json.WriteString("type"u8, "text"u8);
            json.WriteString("text"u8, RequiredString(block, "text", $"{path}.text"));
        }
        else if (type == "image")
        {
            json.WriteString("type"u8, "image_url"u8);
            json.WriteStartObject("image_url"u8);
            json.WriteString("url"u8, SourceUrl(block, path, allowText: false, out _));
            json.WriteEndObject();
        }
        else
        {
            // document: plain text reads as text; a base64 PDF as OpenAI's file part.
            var url = SourceUrl(block, path, allowText: true, out var isText);
            if (isText)
            {
                json.WriteString("type"u8, "text"u8);
                json.WriteString("text"u8, url);
            }
            else
            {
                json.WriteString("type"u8, "file"u8);
                json.WriteStartObject("file"u8);
                if (Present(block, "title", out var title) && title.ValueKind == JsonValueKind.String) json.WriteString("filename"u8, title.GetString());
                json.WriteString("file_data"u8, url);
                json.WriteEndObject();
            }
        }
        json.WriteEndObject();
    }

    /// <summary>An image or document <c>source</c> as a URL: base64 becomes a <c>data:</c> URL.</summary>
    private static string SourceUrl(JsonElement block, string path, bool allowText, out bool isText)
    {
        isText = false;
        if (!Present(block, "source", out var source)) throw new InvalidRequestException($"{path}.source", $"{path}.source: Field required");
        if (source.ValueKind != JsonValueKind.Object) throw Expected($"{path}.source", "a valid dictionary");
        var kind = RequiredString(source, "type", $"{path}.source.type");
        switch (kind)
        {
            case "base64":
                var mediaType = RequiredString(source, "media_type", $"{path}.source.media_type");
                return $"data:{mediaType};base64,{RequiredString(source, "data", $"{path}.source.data")}";
            case "url":
                return RequiredString(source, "url", $"{path}.source.url");
            case "text" when allowText:
                isText = true;
                return RequiredString(source, "data", $"{path}.source.data");
            default:
                throw new InvalidRequestException($"{path}.source.type",
                    $"{path}.source.type: '{ApiError.Quote(kind)}' is not a supported source (expected base64{(allowText ? ", text" : "")} or url)");
        }
    }

    /// <summary>
    /// An assistant turn: text -> <c>content</c>, <c>tool_use</c> -> <c>tool_calls</c> (ids unchanged, so the
    /// client's results still match), thinking -> <c>reasoning_content</c> + <c>reasoning_signature</c>.
    /// </summary>
    private static void WriteAssistant(JsonElement content, string path, Utf8JsonWriter json, List<string> dropped)
    {
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        string? signature = null;
        var calls = new List<(string Id, string Name, string Arguments)>();
        var i = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockPath = $"{path}.{i++}";
            var type = BlockType(block, blockPath);
            switch (type)
            {
                case "text":
                    text.Append(RequiredString(block, "text", $"{blockPath}.text"));
                    break;
                case "tool_use":
                    var id = RequiredString(block, "id", $"{blockPath}.id");
                    var name = RequiredString(block, "name", $"{blockPath}.name");
                    if (!Present(block, "input", out var input)) throw new InvalidRequestException($"{blockPath}.input", $"{blockPath}.input: Field required");
                    if (input.ValueKind != JsonValueKind.Object) throw Expected($"{blockPath}.input", "a valid dictionary");
                    calls.Add((id, name, input.GetRawText()));
                    break;
                case "thinking":
                    reasoning.Append(RequiredString(block, "thinking", $"{blockPath}.thinking"));
                    if (Present(block, "signature", out var sealedBy) && sealedBy.ValueKind == JsonValueKind.String) signature = sealedBy.GetString();
                    break;
                case "redacted_thinking":
                    break;   // encrypted for Anthropic alone: nothing another upstream could read (the native body keeps it)
                case "tool_result" or "image" or "document":
                    throw new InvalidRequestException($"{blockPath}.type", $"{blockPath}.type: '{type}' blocks belong in a user message, not an assistant message");
                default:
                    dropped.Add($"content:{ApiError.Quote(type)}");   // a block type chat has no place for (server_tool_use, search results...)
                    break;
            }
        }
        json.WriteStartObject();
        json.WriteString("role"u8, "assistant"u8);
        // OpenAI: content is null (not absent) when the turn is only tool calls.
        if (text.Length == 0 && calls.Count > 0) json.WriteNull("content"u8);
        else json.WriteString("content"u8, text.ToString());
        if (reasoning.Length > 0) json.WriteString("reasoning_content"u8, reasoning.ToString());
        if (signature is not null) json.WriteString("reasoning_signature"u8, signature);
        if (calls.Count > 0)
        {
            ChatToolCalls.Write(json, calls);
        }
        json.WriteEndObject();
    }

    /// <summary>
    /// Client tools -> OpenAI function tools; <c>tool_choice</c> any -> "required", tool -> the named function,
    /// none -> "none"; <c>disable_parallel_tool_use</c> -> <c>parallel_tool_calls: false</c>. OpenAI refuses a
    /// tool_choice without tools, so both are written only when there are tools.
    /// </summary>
    private static void WriteTools(JsonElement root, Utf8JsonWriter json, List<string> dropped)
    {
        var count = 0;
        var index = 0;
        if (Present(root, "tools", out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array) throw Expected("tools", "a valid list");
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools.{index}";
                if (tool.ValueKind != JsonValueKind.Object) throw Expected(path, "a valid dictionary");
                // Server tools (web_search_..., bash_..., text_editor_...) run at Anthropic; no other upstream has them.
                if (Present(tool, "type", out var type) && !(type.ValueKind == JsonValueKind.String && type.ValueEquals("custom"u8)))
                {
                    dropped.Add($"tools[{index}]:{ApiError.Quote(type.ValueKind == JsonValueKind.String ? type.GetString()! : type.GetRawText())}");
                    index++;
                    continue;
                }
                index++;
                var name = RequiredString(tool, "name", $"{path}.name");
                foreach (var field in tool.EnumerateObject())
                {
                    // defer_loading, input_examples, strict, ...: the chat function has no place for them.
                    if (field.Name is not ("type" or "name" or "description" or "input_schema" or "cache_control")) dropped.Add($"tools[{index - 1}].{ApiError.Quote(field.Name)}");
                }
                if (!Present(tool, "input_schema", out var schema)) throw new InvalidRequestException($"{path}.input_schema", $"{path}.input_schema: Field required");
                if (schema.ValueKind != JsonValueKind.Object) throw Expected($"{path}.input_schema", "a valid dictionary");
                if (count == 0) json.WriteStartArray("tools"u8);
                json.WriteStartObject();
                json.WriteString("type"u8, "function"u8);
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, name);
                if (Present(tool, "description", out var description))
                {
                    if (description.ValueKind != JsonValueKind.String) throw Expected($"{path}.description", "a valid string");
                    json.WriteString("description"u8, description.GetString());
                }
                json.WritePropertyName("parameters"u8);
                schema.WriteTo(json);
                json.WriteEndObject();
                json.WriteEndObject();
                count++;
            }
            if (count > 0) json.WriteEndArray();
        }

        if (!Present(root, "tool_choice", out var choice)) return;
        if (choice.ValueKind != JsonValueKind.Object) throw Expected("tool_choice", "a valid dictionary");
        var kind = RequiredString(choice, "type", "tool_choice.type");
        string? named = null;
        switch (kind)
        {
            case "auto" or "any" or "none":
                break;
            case "tool":
                named = RequiredString(choice, "name", "tool_choice.name");
                break;
            default:
                throw new InvalidRequestException("tool_choice.type", $"tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', but got '{ApiError.Quote(kind)}'");
        }
        var serial = false;
        if (Present(choice, "disable_parallel_tool_use", out var disable))
        {
            if (disable.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Expected("tool_choice.disable_parallel_tool_use", "a valid boolean");
            serial = disable.GetBoolean();
        }
        if (count == 0) return;
        if (named is not null)
        {
            json.WriteStartObject("tool_choice"u8);
            json.WriteString("type"u8, "function"u8);
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, named);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        else json.WriteString("tool_choice"u8, kind switch { "any" => "required", "none" => "none", _ => "auto" });
        if (serial) json.WriteBoolean("parallel_tool_calls"u8, false);
    }

    /// <summary>
    /// Sampling and the rest. <c>top_k</c> and <c>thinking</c> are checked but not translated: OpenAI's API refuses
    /// an unknown <c>top_k</c>, and a thinking budget has no OpenAI equivalent (the native body keeps both).
    /// </summary>
    private static void WriteSampling(JsonElement root, Utf8JsonWriter json)
    {
        if (Present(root, "stop_sequences", out var stops))
        {
            if (stops.ValueKind != JsonValueKind.Array) throw Expected("stop_sequences", "a valid list");
            var i = 0;
            foreach (var stop in stops.EnumerateArray())
                if (stop.ValueKind != JsonValueKind.String) throw Expected($"stop_sequences.{i++}", "a valid string");
            if (stops.GetArrayLength() > 0)
            {
                json.WritePropertyName("stop"u8);
                stops.WriteTo(json);
            }
        }
        CopyNumber(root, "temperature", json);
        CopyNumber(root, "top_p", json);
        if (Present(root, "top_k", out var topK) && (topK.ValueKind != JsonValueKind.Number || !topK.TryGetInt32(out var k) || k < 0))
            throw Expected("top_k", "a valid non-negative integer");
        if (Present(root, "stream", out var stream))
        {
            if (stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Expected("stream", "a valid boolean");
            if (stream.GetBoolean())
            {
                json.WriteBoolean("stream"u8, true);
                // The front always needs usage: message_delta carries it, whatever the client asked.
                json.WriteStartObject("stream_options"u8);
                json.WriteBoolean("include_usage"u8, true);
                json.WriteEndObject();
            }
        }
        if (Present(root, "metadata", out var metadata))
        {
            if (metadata.ValueKind != JsonValueKind.Object) throw Expected("metadata", "a valid dictionary");
            if (Present(metadata, "user_id", out var user))
            {
                if (user.ValueKind != JsonValueKind.String) throw Expected("metadata.user_id", "a valid string");
                json.WriteString("user"u8, user.GetString());
            }
        }
        if (Present(root, "thinking", out var thinking))
        {
            if (thinking.ValueKind != JsonValueKind.Object) throw Expected("thinking", "a valid dictionary");
            // Any type: new ones come with new models (adaptive did); an Anthropic upstream reads the native body.
            var type = RequiredString(thinking, "type", "thinking.type");
            if (type == "enabled" && (!Present(thinking, "budget_tokens", out var budget) || budget.ValueKind != JsonValueKind.Number || !budget.TryGetInt32(out _)))
                throw Expected("thinking.budget_tokens", "a valid integer");
        }
    }

    private static void CopyNumber(JsonElement root, string name, Utf8JsonWriter json)
    {
        if (!Present(root, name, out var value)) return;
        if (value.ValueKind != JsonValueKind.Number) throw Expected(name, "a valid number");
        json.WritePropertyName(name);
        value.WriteTo(json);
    }

    private static string BlockType(JsonElement block, string path)
    {
        if (block.ValueKind != JsonValueKind.Object) throw Expected(path, "a valid dictionary");
        return RequiredString(block, "type", $"{path}.type");
    }

    private static InvalidRequestException UnsupportedBlock(string path, string type) =>
        new($"{path}.type", $"{path}.type: '{ApiError.Quote(type)}' is not a supported content block type (expected one of {BlockTypes})");

    private static bool Present(JsonElement obj, string name, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string RequiredString(JsonElement obj, string name, string path)
    {
        if (!Present(obj, name, out var value)) throw new InvalidRequestException(path, $"{path}: Field required");
        if (value.ValueKind != JsonValueKind.String) throw Expected(path, "a valid string");
        return value.GetString()!;
    }

    // Anthropic's (pydantic's) wording: "max_tokens: Input should be a valid integer".
    private static InvalidRequestException Expected(string path, string what) => new(path, $"{path}: Input should be {what}");

    /// <summary>Unwinds the translation at the first problem; never leaves <see cref="Translate"/>.</summary>
    private sealed class InvalidRequestException(string? param, string message) : Exception(message)
    {
        public string? Param { get; } = param;
    }
}
