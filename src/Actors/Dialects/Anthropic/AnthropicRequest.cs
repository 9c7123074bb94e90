using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// The body sent to an anthropic-kind upstream (<c>POST /messages</c>). A caller that spoke Anthropic Messages has its
/// own body sent on with <c>model</c> and <c>stream</c> rewritten; an OpenAI chat body is translated: system and
/// developer messages to the top-level <c>system</c>, tool messages to <c>tool_result</c> blocks, tool calls to
/// <c>tool_use</c> blocks, reasoning to a signed <c>thinking</c> block, consecutive same-role messages merged (the
/// API requires user and assistant to alternate), and only the fields Anthropic knows (it rejects unknown ones).
/// A trailing assistant message stays last: Anthropic continues it, which is how a prefill resume works there.
/// <c>response_format</c> (a JSON schema, or any JSON object) has no Messages field: a request without tools gets one
/// tool whose <c>input_schema</c> is the schema, forced by <c>tool_choice</c>, and the decoders answer that tool's
/// input as the text of the JSON (<see cref="OutputTool"/>), which is what the client asked for.
/// </summary>
public static class AnthropicRequest
{
    /// <summary>The chat body's top-level fields this translation carries (or that only shape how it is written); the rest are dropped.</summary>
    public static readonly IReadOnlySet<string> CarriedFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "model", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options", "temperature", "top_p", "stop",
        "tools", "tool_choice", "parallel_tool_calls", "user", "response_format",
    };

    public static byte[] Write(ChatRequest request, string upstreamModel, int maxTokensDefault)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (request.Native is { Dialect: Dialect.AnthropicMessages } native) WriteNative(writer, native.Body, upstreamModel, request.Stream, maxTokensDefault);
            else Translate(writer, request, upstreamModel, maxTokensDefault);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteNative(Utf8JsonWriter writer, JsonElement body, string model, bool stream, int maxTokensDefault)
    {
        writer.WriteStartObject();
        writer.WriteString("model"u8, model);
        writer.WriteBoolean("stream"u8, stream);
        // The Messages front requires max_tokens; a body from elsewhere still gets the limit the API insists on.
        if (!body.TryGetProperty("max_tokens"u8, out _)) writer.WriteNumber("max_tokens"u8, maxTokensDefault);
        foreach (var property in body.EnumerateObject())
        {
            if (property.NameEquals("model"u8) || property.NameEquals("stream"u8)) continue;
            property.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static void Translate(Utf8JsonWriter writer, ChatRequest request, string model, int maxTokensDefault)
    {
        var body = request.Body;
        var system = new List<string>();
        var turns = Turns(body, system);

        writer.WriteStartObject();
        writer.WriteString("model"u8, model);
        writer.WriteNumber("max_tokens"u8, request.MaxTokens ?? maxTokensDefault);
        writer.WriteBoolean("stream"u8, request.Stream);
        if (system.Count == 1) writer.WriteString("system"u8, system[0]);
        else if (system.Count > 1)
        {
            writer.WriteStartArray("system"u8);
            foreach (var text in system) TextBlock(writer, text);
            writer.WriteEndArray();
        }
        writer.WriteStartArray("messages"u8);
        foreach (var turn in turns)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, turn.Role);
            writer.WriteStartArray("content"u8);
            foreach (var block in turn.Blocks) block.WriteTo(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        if (body.TryGetProperty("temperature"u8, out var temperature) && temperature.TryGetDouble(out var t))
            writer.WriteNumber("temperature"u8, Math.Clamp(t, 0, 1));   // OpenAI allows 0..2, Anthropic 0..1
        if (body.TryGetProperty("top_p"u8, out var topP) && topP.TryGetDouble(out var p)) writer.WriteNumber("top_p"u8, p);
        StopSequences(writer, body);
        var hasTools = Tools(writer, body);
        if (hasTools) ToolChoice(writer, body);
        else if (OutputTool(body, out var schema) is { } output) WriteOutputTool(writer, output, schema);
        if (String(body, "user") is { Length: > 0 } user)
        {
            writer.WriteStartObject("metadata"u8);
            writer.WriteString("user_id"u8, user);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    // ---- messages --------------------------------------------------------------------------------------------

    private static List<Turn> Turns(JsonElement body, List<string> system)
    {
        var turns = new List<Turn>();
        if (!body.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array) return turns;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object) continue;
            switch (String(message, "role"))
            {
                case "system" or "developer":
                    foreach (var block in ContentBlocks(message))
                    {
                        if (block.Text is { } text) system.Add(text);
                    }
                    break;
                case "user":
                    Add(turns, "user", ContentBlocks(message));
                    break;
                case "assistant":
                    Add(turns, "assistant", AssistantBlocks(message));
                    break;
                case "tool":
                    Add(turns, "user", [ToolResult(message)]);
                    break;
            }
        }
        TrimPrefill(turns);
        return turns;
    }

    /// <summary>Consecutive messages of one role become one message; in a user message tool results come first (API rule).</summary>
    private static void Add(List<Turn> turns, string role, List<Block> blocks)
    {
        if (blocks.Count == 0) return;   // the API rejects a message with no content
        if (turns.Count > 0 && turns[^1].Role == role)
        {
            var merged = turns[^1].Blocks;
            merged.AddRange(blocks);
            if (role == "user") turns[^1] = turns[^1] with { Blocks = [.. merged.Where(b => b.IsToolResult), .. merged.Where(b => !b.IsToolResult)] };
            return;
        }
        turns.Add(new Turn(role, blocks));
    }

    /// <summary>Anthropic: "final assistant content cannot end with trailing whitespace"; the model writes the space itself.</summary>
    private static void TrimPrefill(List<Turn> turns)
    {
        if (turns.Count == 0 || turns[^1].Role != "assistant") return;
        var blocks = turns[^1].Blocks;
        if (blocks[^1].Text is not { } text) return;
        var trimmed = text.TrimEnd();
        if (trimmed.Length > 0) blocks[^1] = Block.TextOf(trimmed);
        else blocks.RemoveAt(blocks.Count - 1);
        if (blocks.Count == 0) turns.RemoveAt(turns.Count - 1);
    }

    /// <summary>A message's <c>content</c>: a string, or text, image and file parts (other parts have no Anthropic form).</summary>
    private static List<Block> ContentBlocks(JsonElement message)
    {
        var blocks = new List<Block>();
        if (!message.TryGetProperty("content"u8, out var content)) return blocks;
        if (content.ValueKind == JsonValueKind.String)
        {
            if (content.GetString() is { Length: > 0 } text) blocks.Add(Block.TextOf(text));   // empty text blocks are rejected
            return blocks;
        }
        if (content.ValueKind != JsonValueKind.Array) return blocks;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object) continue;
            switch (String(part, "type"))
            {
                case "text" when String(part, "text") is { Length: > 0 } text:
                    blocks.Add(Block.TextOf(text));
                    break;
                case "image_url" when part.TryGetProperty("image_url"u8, out var image):
                    var url = image.ValueKind == JsonValueKind.String ? image.GetString() : String(image, "url");
                    if (url is not null && Source(url) is { } source) blocks.Add(Block.Of(w => Media(w, "image", source)));
                    break;
                case "file" when part.TryGetProperty("file"u8, out var file) && String(file, "file_data") is { } data && DataUrl(data) is { } document:
                    blocks.Add(Block.Of(w => Media(w, "document", document)));
                    break;
            }
        }
        return blocks;
    }

    private static List<Block> AssistantBlocks(JsonElement message)
    {
        var blocks = new List<Block>();
        // A thinking block without its signature is refused by the API, and only a signed one can be sent back.
        if (String(message, "reasoning_content") is { Length: > 0 } thinking && String(message, "reasoning_signature") is { Length: > 0 } signature)
        {
            blocks.Add(Block.Of(w =>
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "thinking"u8);
                w.WriteString("thinking"u8, thinking);
                w.WriteString("signature"u8, signature);
                w.WriteEndObject();
            }));
        }
        blocks.AddRange(ContentBlocks(message));
        if (message.TryGetProperty("tool_calls"u8, out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function"u8, out var function) || function.ValueKind != JsonValueKind.Object) continue;
                var id = String(call, "id") ?? "";
                var name = String(function, "name") ?? "";
                var arguments = String(function, "arguments");
                blocks.Add(Block.Of(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "tool_use"u8);
                    w.WriteString("id"u8, id);
                    w.WriteString("name"u8, name);
                    w.WritePropertyName("input"u8);
                    Input(w, arguments);
                    w.WriteEndObject();
                }));
            }
        }
        return blocks;
    }

    /// <summary>A tool call's arguments as the <c>input</c> object; none, empty or not an object (the API wants one) is <c>{}</c>.</summary>
    private static void Input(Utf8JsonWriter writer, string? arguments)
    {
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            try
            {
                using var doc = JsonDocument.Parse(arguments);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    doc.RootElement.WriteTo(writer);
                    return;
                }
            }
            catch (JsonException)
            {
                // A model's malformed arguments echoed back: the call still needs an input to pair with its result.
            }
        }
        writer.WriteStartObject();
        writer.WriteEndObject();
    }

    private static Block ToolResult(JsonElement message)
    {
        var id = String(message, "tool_call_id") ?? "";
        var content = message.TryGetProperty("content"u8, out var c) ? c : default;
        var parts = content.ValueKind == JsonValueKind.Array ? ContentBlocks(message) : null;
        return Block.Result(w =>
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "tool_result"u8);
            w.WriteString("tool_use_id"u8, id);
            if (content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } text) w.WriteString("content"u8, text);
            else if (parts is { Count: > 0 })
            {
                w.WriteStartArray("content"u8);
                foreach (var part in parts) part.WriteTo(w);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        });
    }

    // ---- media -----------------------------------------------------------------------------------------------

    private sealed record MediaSource(string? MediaType, string? Data, string? Url);

    private static MediaSource? Source(string url) =>
        url.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? DataUrl(url)
        : url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? new MediaSource(null, null, url)
        : null;

    /// <summary><c>data:image/png;base64,AAAA</c> as a base64 source; any other data URL has no Anthropic form.</summary>
    private static MediaSource? DataUrl(string url)
    {
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return null;
        var comma = url.IndexOf(',');
        if (comma < 0) return null;
        var header = url.AsSpan(5, comma - 5);
        if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase)) return null;
        return new MediaSource(header[..^";base64".Length].ToString(), url[(comma + 1)..], null);
    }

    private static void Media(Utf8JsonWriter writer, string type, MediaSource source)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        writer.WriteStartObject("source"u8);
        if (source.Url is { } url)
        {
            writer.WriteString("type"u8, "url"u8);
            writer.WriteString("url"u8, url);
        }
        else
        {
            writer.WriteString("type"u8, "base64"u8);
            writer.WriteString("media_type"u8, source.MediaType);
            writer.WriteString("data"u8, source.Data);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    // ---- parameters ------------------------------------------------------------------------------------------

    private static void StopSequences(Utf8JsonWriter writer, JsonElement body)
    {
        if (!body.TryGetProperty("stop"u8, out var stop)) return;
        if (stop.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartArray("stop_sequences"u8);
            writer.WriteStringValue(stop.GetString());
            writer.WriteEndArray();
        }
        else if (stop.ValueKind == JsonValueKind.Array && stop.GetArrayLength() > 0)
        {
            writer.WriteStartArray("stop_sequences"u8);
            foreach (var sequence in stop.EnumerateArray())
            {
                if (sequence.ValueKind == JsonValueKind.String) writer.WriteStringValue(sequence.GetString());
            }
            writer.WriteEndArray();
        }
    }

    /// <summary>Function tools as Anthropic tools; true when any was written (tool_choice is only allowed then).</summary>
    private static bool Tools(Utf8JsonWriter writer, JsonElement body)
    {
        if (!body.TryGetProperty("tools"u8, out var tools) || tools.ValueKind != JsonValueKind.Array) return false;
        var any = false;
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || String(tool, "type") is not (null or "function")) continue;
            if (!tool.TryGetProperty("function"u8, out var function) || String(function, "name") is not { } name) continue;
            if (!any) writer.WriteStartArray("tools"u8);
            any = true;
            writer.WriteStartObject();
            writer.WriteString("name"u8, name);
            if (String(function, "description") is { } description) writer.WriteString("description"u8, description);
            writer.WritePropertyName("input_schema"u8);
            if (function.TryGetProperty("parameters"u8, out var parameters) && parameters.ValueKind == JsonValueKind.Object) parameters.WriteTo(writer);
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "object"u8);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        if (any) writer.WriteEndArray();
        return any;
    }

    /// <summary>
    /// The name of the tool that carries a structured answer (<c>response_format</c> json_schema or json_object in a
    /// body without tools), or null when the request asks for none; <paramref name="schema"/> is its input schema
    /// (undefined for json_object: any object). Only an object schema can be a tool's input.
    /// </summary>
    public static string? OutputTool(JsonElement body, out JsonElement schema)
    {
        schema = default;
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("response_format"u8, out var format) || format.ValueKind != JsonValueKind.Object) return null;
        if (body.TryGetProperty("tools"u8, out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0) return null;
        switch (String(format, "type"))
        {
            case "json_object":
                return "json_output";
            case "json_schema" when format.TryGetProperty("json_schema"u8, out var spec) && spec.ValueKind == JsonValueKind.Object
                                    && spec.TryGetProperty("schema"u8, out var s) && s.ValueKind == JsonValueKind.Object
                                    && String(s, "type") is null or "object":
                schema = s;
                return String(spec, "name") is { Length: > 0 } name ? Responses.ResponsesToolMap.Fit(name) : "json_output";
            default:
                return null;
        }
    }

    private static void WriteOutputTool(Utf8JsonWriter writer, string name, JsonElement schema)
    {
        writer.WriteStartArray("tools"u8);
        writer.WriteStartObject();
        writer.WriteString("name"u8, name);
        writer.WriteString("description"u8, "Give your whole answer as this tool's input: the JSON the user asked for."u8);
        writer.WritePropertyName("input_schema"u8);
        if (schema.ValueKind == JsonValueKind.Object)
        {
            // Anthropic requires the root of an input schema to say it is an object.
            writer.WriteStartObject();
            if (!schema.TryGetProperty("type"u8, out _)) writer.WriteString("type"u8, "object"u8);
            foreach (var property in schema.EnumerateObject()) property.WriteTo(writer);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "object"u8);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteStartObject("tool_choice"u8);
        writer.WriteString("type"u8, "tool"u8);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
    }

    private static void ToolChoice(Utf8JsonWriter writer, JsonElement body)
    {
        var parallelOff = body.TryGetProperty("parallel_tool_calls"u8, out var parallel) && parallel.ValueKind == JsonValueKind.False;
        string? type = null;
        string? name = null;
        if (body.TryGetProperty("tool_choice"u8, out var choice))
        {
            if (choice.ValueKind == JsonValueKind.String)
            {
                type = choice.GetString() switch
                {
                    "required" => "any",
                    "none" => "none",
                    _ => "auto",
                };
            }
            else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function"u8, out var function) && String(function, "name") is { } named)
            {
                type = "tool";
                name = named;
            }
        }
        if (type is null && !parallelOff) return;   // Anthropic's default is auto, as OpenAI's is
        type ??= "auto";
        writer.WriteStartObject("tool_choice"u8);
        writer.WriteString("type"u8, type);
        if (name is not null) writer.WriteString("name"u8, name);
        if (parallelOff && type != "none") writer.WriteBoolean("disable_parallel_tool_use"u8, true);
        writer.WriteEndObject();
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static void TextBlock(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "text"u8);
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    private static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private sealed record Turn(string Role, List<Block> Blocks);

    /// <summary>One content block: text kept as text (a prefill is trimmed), anything else as how to write it.</summary>
    private sealed record Block(string? Text, Action<Utf8JsonWriter>? Writer, bool IsToolResult)
    {
        public static Block TextOf(string text) => new(text, null, false);
        public static Block Of(Action<Utf8JsonWriter> writer) => new(null, writer, false);
        public static Block Result(Action<Utf8JsonWriter> writer) => new(null, writer, true);

        public void WriteTo(Utf8JsonWriter writer)
        {
            if (Text is not null) TextBlock(writer, Text);
            else Writer!(writer);
        }
    }
}
