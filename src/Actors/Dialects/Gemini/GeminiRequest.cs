using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Gemini;

/// <summary>
/// The body sent to a gemini-kind upstream (<c>POST /models/{model}:generateContent</c> or <c>:streamGenerateContent</c>).
/// An OpenAI chat body is translated: system and developer messages to <c>systemInstruction</c>, assistant messages
/// to <c>model</c> turns with tool calls as <c>functionCall</c> parts, tool messages to <c>functionResponse</c> parts
/// of a <c>user</c> turn (named after the call they answer), consecutive same-role turns merged, sampling fields to
/// <c>generationConfig</c>, function tools to <c>functionDeclarations</c> with the JSON-schema keywords Gemini refuses
/// left out. Only fields Gemini knows are written: it refuses unknown ones, and a <c>model</c> in the body (the model
/// travels in the URL). A caller that spoke Gemini itself has its own body sent on, without <c>model</c>/<c>stream</c>.
/// </summary>
public static class GeminiRequest
{
    /// <summary>The chat body's top-level fields this translation carries (or that only shape how it is written); the rest are dropped.</summary>
    public static readonly IReadOnlySet<string> CarriedFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "model", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options", "temperature", "top_p", "stop",
        "presence_penalty", "frequency_penalty", "seed", "n", "reasoning_effort", "tools", "tool_choice", "response_format",
    };

    // Gemini's Schema (an OpenAPI 3.0 subset): any other keyword (additionalProperties, $schema, $ref, ...) is a 400.
    private static readonly HashSet<string> SchemaKeywords = new(StringComparer.Ordinal)
    {
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "required",
        "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "propertyOrdering",
        "default", "minimum", "maximum",
    };

    public static byte[] Write(ChatRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (request.Native is { Dialect: Dialect.Gemini } native) WriteNative(writer, native.Body);
            else Translate(writer, request);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteNative(Utf8JsonWriter writer, JsonElement body)
    {
        writer.WriteStartObject();
        foreach (var property in body.EnumerateObject())
        {
            if (property.NameEquals("model"u8) || property.NameEquals("stream"u8)) continue;
            property.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static void Translate(Utf8JsonWriter writer, ChatRequest request)
    {
        var body = request.Body;
        var system = new List<string>();
        var turns = Turns(body, system);

        writer.WriteStartObject();
        writer.WriteStartArray("contents"u8);
        foreach (var turn in turns)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, turn.Role);
            writer.WriteStartArray("parts"u8);
            foreach (var part in turn.Parts) part.WriteTo(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        if (system.Count > 0)
        {
            writer.WriteStartObject("systemInstruction"u8);
            writer.WriteStartArray("parts"u8);
            foreach (var text in system)
            {
                writer.WriteStartObject();
                writer.WriteString("text"u8, text);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        if (Tools(writer, body)) ToolConfig(writer, body);
        GenerationConfig(writer, request);
        writer.WriteEndObject();
    }

    // ---- messages -----------------------------------------------------------------------------------------------

    private sealed record Turn(string Role, List<Part> Parts);

    private static List<Turn> Turns(JsonElement body, List<string> system)
    {
        var turns = new List<Turn>();
        // Gemini names a function response after its function; OpenAI's tool message names only the call's id.
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!body.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array) return turns;
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var at = $"messages[{i}]";
            message.TryGetProperty("content"u8, out var content);
            switch (String(message, "role"))
            {
                case "system" or "developer":
                    foreach (var text in Texts(content, at)) system.Add(text);
                    break;
                case "user":
                    Add(turns, "user", UserParts(content, at));
                    break;
                case "assistant":
                    Add(turns, "model", AssistantParts(message, content, at, callNames));
                    break;
                case "tool":
                    var id = String(message, "tool_call_id");
                    var name = (id is not null && callNames.TryGetValue(id, out var called) ? called : null) ?? String(message, "name")
                        ?? throw new GeminiRequestException($"Invalid '{at}.tool_call_id': it answers no tool call of an earlier assistant message.", $"{at}.tool_call_id");
                    Add(turns, "user", [new FunctionResponsePart(name, string.Concat(Texts(content, at)))]);
                    break;
                case "function":   // OpenAI's deprecated function-calling form
                    var function = String(message, "name") ?? throw new GeminiRequestException($"Missing required parameter: '{at}.name'.", $"{at}.name");
                    Add(turns, "user", [new FunctionResponsePart(function, string.Concat(Texts(content, at)))]);
                    break;
                default:
                    throw new GeminiRequestException($"Invalid '{at}.role': expected system, developer, user, assistant or tool.", $"{at}.role");
            }
            i++;
        }
        return turns;
    }

    /// <summary>Gemini refuses a turn without parts and expects the roles to alternate: same-role neighbours become one turn.</summary>
    private static void Add(List<Turn> turns, string role, List<Part> parts)
    {
        if (parts.Count == 0) return;
        if (turns.Count > 0 && turns[^1].Role == role) turns[^1].Parts.AddRange(parts);
        else turns.Add(new Turn(role, parts));
    }

    private static List<Part> UserParts(JsonElement content, string at)
    {
        var parts = new List<Part>();
        if (content.ValueKind == JsonValueKind.String)
        {
            if (content.GetString() is { Length: > 0 } text) parts.Add(new TextPart(text));
            return parts;
        }
        if (content.ValueKind != JsonValueKind.Array) return parts;
        var j = 0;
        foreach (var item in content.EnumerateArray())
        {
            var where = $"{at}.content[{j++}]";
            switch (String(item, "type"))
            {
                case "text":
                    if (String(item, "text") is { Length: > 0 } text) parts.Add(new TextPart(text));
                    break;
                case "image_url":
                    var image = item.TryGetProperty("image_url"u8, out var i) ? i.ValueKind == JsonValueKind.String ? i.GetString() : String(i, "url") : null;
                    if (image is null) throw new GeminiRequestException($"Missing required parameter: '{where}.image_url.url'.", $"{where}.image_url.url");
                    parts.Add(image.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? DataUrl(image, $"{where}.image_url.url") : new FilePart(image, GuessMimeType(image)));
                    break;
                case "input_audio":
                    var audio = item.TryGetProperty("input_audio"u8, out var a) ? a : default;
                    var data = audio.ValueKind == JsonValueKind.Object ? String(audio, "data") : null;
                    if (data is null) throw new GeminiRequestException($"Missing required parameter: '{where}.input_audio.data'.", $"{where}.input_audio.data");
                    parts.Add(new InlinePart("audio/" + (String(audio, "format") ?? "wav"), data));
                    break;
                case "file":
                    var file = item.TryGetProperty("file"u8, out var f) && f.ValueKind == JsonValueKind.Object ? String(f, "file_data") : null;
                    if (file is null)
                        throw new GeminiRequestException($"Invalid '{where}.file': a Gemini route takes files as file_data (a data: URL), not file_id.", $"{where}.file");
                    parts.Add(DataUrl(file, $"{where}.file.file_data"));
                    break;
                default:
                    throw new GeminiRequestException($"Invalid '{where}.type': expected text, image_url, input_audio or file.", $"{where}.type");
            }
        }
        return parts;
    }

    private static List<Part> AssistantParts(JsonElement message, JsonElement content, string at, Dictionary<string, string> callNames)
    {
        var parts = new List<Part>();
        var text = string.Concat(Texts(content, at));
        if (text.Length > 0) parts.Add(new TextPart(text));
        var firstCall = -1;
        if (message.TryGetProperty("tool_calls"u8, out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var k = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var where = $"{at}.tool_calls[{k++}]";
                var function = call.TryGetProperty("function"u8, out var fn) && fn.ValueKind == JsonValueKind.Object ? fn : default;
                var name = function.ValueKind == JsonValueKind.Object ? String(function, "name") : null;
                if (name is null) throw new GeminiRequestException($"Missing required parameter: '{where}.function.name'.", $"{where}.function.name");
                if (String(call, "id") is { } id) callNames[id] = name;
                if (firstCall < 0) firstCall = parts.Count;
                parts.Add(new FunctionCallPart(name, Arguments(String(function, "arguments"), $"{where}.function.arguments")));
            }
        }
        else if (message.TryGetProperty("function_call"u8, out var legacy) && legacy.ValueKind == JsonValueKind.Object && String(legacy, "name") is { } legacyName)
        {
            firstCall = parts.Count;
            parts.Add(new FunctionCallPart(legacyName, Arguments(String(legacy, "arguments"), $"{at}.function_call.arguments")));
        }
        // Gemini wants a thought signature back on the part it came with: the first function call of the turn, or
        // else its text. The chat form keeps one signature per message, so that is where it goes.
        if (String(message, "reasoning_signature") is { Length: > 0 } signature)
        {
            var on = firstCall >= 0 ? firstCall : parts.Count - 1;
            if (on >= 0) parts[on] = parts[on] with { Signature = signature };
        }
        return parts;
    }

    /// <summary>A call's arguments as the JSON object Gemini's <c>args</c> is; an empty string is no arguments.</summary>
    private static string Arguments(string? arguments, string param)
    {
        if (string.IsNullOrWhiteSpace(arguments)) return "{}";
        if (!IsJsonObject(arguments)) throw new GeminiRequestException($"Invalid '{param}': expected a JSON object.", param);
        return arguments;
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The text of a content that is a string or an array of text (or refusal) parts.</summary>
    private static IEnumerable<string> Texts(JsonElement content, string at)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            if (content.GetString() is { Length: > 0 } text) yield return text;
            yield break;
        }
        if (content.ValueKind != JsonValueKind.Array) yield break;
        foreach (var item in content.EnumerateArray())
        {
            var text = String(item, "text") ?? String(item, "refusal");
            if (text is null && String(item, "type") is { } type and not ("text" or "refusal"))
                throw new GeminiRequestException($"Invalid '{at}.content': only text parts can go here, not {type}.", $"{at}.content");
            if (text is { Length: > 0 }) yield return text;
        }
    }

    /// <summary><c>data:image/png;base64,...</c> as inline data.</summary>
    private static InlinePart DataUrl(string url, string param)
    {
        var comma = url.IndexOf(',');
        var header = comma > 5 ? url.AsSpan(5, comma - 5) : default;
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw new GeminiRequestException($"Invalid '{param}': expected a base64 data: URL.", param);
        var mime = header[..^";base64".Length];
        return new InlinePart(mime.IsEmpty ? "application/octet-stream" : mime.ToString(), url[(comma + 1)..]);
    }

    private static string? GuessMimeType(string url)
    {
        var path = url.AsSpan();
        var cut = path.IndexOfAny('?', '#');
        if (cut >= 0) path = path[..cut];
        var dot = path.LastIndexOf('.');
        if (dot < 0) return null;
        return path[(dot + 1)..].ToString().ToLowerInvariant() switch
        {
            "png" => "image/png",
            "jpg" or "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "gif" => "image/gif",
            "heic" => "image/heic",
            "pdf" => "application/pdf",
            "mp3" => "audio/mp3",
            "wav" => "audio/wav",
            "mp4" => "video/mp4",
            _ => null,
        };
    }

    // ---- tools --------------------------------------------------------------------------------------------------

    private static bool Tools(Utf8JsonWriter writer, JsonElement body)
    {
        if (!body.TryGetProperty("tools"u8, out var tools) || tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0) return false;
        writer.WriteStartArray("tools"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("functionDeclarations"u8);
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = $"tools[{i++}]";
            var function = tool.TryGetProperty("function"u8, out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
            var name = function.ValueKind == JsonValueKind.Object ? String(function, "name") : null;
            if (String(tool, "type") is not (null or "function") || name is null)
                throw new GeminiRequestException($"Invalid '{at}': a Gemini route takes function tools only, each with a name.", at);
            writer.WriteStartObject();
            writer.WriteString("name"u8, name);
            if (String(function, "description") is { } description) writer.WriteString("description"u8, description);
            // Gemini refuses an OBJECT schema without properties: a function that takes nothing declares no parameters.
            if (function.TryGetProperty("parameters"u8, out var parameters) && parameters.ValueKind == JsonValueKind.Object && HasProperties(parameters))
            {
                writer.WritePropertyName("parameters"u8);
                Schema(writer, parameters);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
        return true;
    }

    private static bool HasProperties(JsonElement schema) =>
        String(schema, "type") != "object"
        || schema.TryGetProperty("properties"u8, out var properties) && properties.ValueKind == JsonValueKind.Object && properties.EnumerateObject().Any();

    /// <summary>A JSON schema in Gemini's subset: known keywords kept, nested schemas walked, the rest left out.</summary>
    private static void Schema(Utf8JsonWriter writer, JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            writer.WriteStartObject();   // `true` (anything goes) and other shorthands: an unconstrained schema
            writer.WriteEndObject();
            return;
        }
        writer.WriteStartObject();
        var wroteAnyOf = false;
        var hasEnum = schema.TryGetProperty("enum"u8, out _);
        var hasNullable = schema.TryGetProperty("nullable"u8, out _);
        foreach (var property in schema.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "type" when value.ValueKind == JsonValueKind.Array:
                    // JSON schema's ["string","null"]: Gemini has one type and a nullable flag.
                    var type = value.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String && t.GetString() != "null").Select(t => t.GetString()).FirstOrDefault();
                    if (type is not null) writer.WriteString("type"u8, type);
                    if (!hasNullable && value.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.GetString() == "null")) writer.WriteBoolean("nullable"u8, true);
                    break;
                case "properties" when value.ValueKind == JsonValueKind.Object:
                    writer.WriteStartObject("properties"u8);
                    foreach (var field in value.EnumerateObject())
                    {
                        writer.WritePropertyName(field.Name);
                        Schema(writer, field.Value);
                    }
                    writer.WriteEndObject();
                    break;
                case "items":
                    writer.WritePropertyName("items"u8);
                    Schema(writer, value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 ? value[0] : value);
                    break;
                case "anyOf" or "oneOf" when value.ValueKind == JsonValueKind.Array && !wroteAnyOf:
                    wroteAnyOf = true;
                    writer.WriteStartArray("anyOf"u8);
                    foreach (var option in value.EnumerateArray()) Schema(writer, option);
                    writer.WriteEndArray();
                    break;
                case "const" when !hasEnum:
                    writer.WriteStartArray("enum"u8);
                    value.WriteTo(writer);
                    writer.WriteEndArray();
                    break;
                default:
                    if (SchemaKeywords.Contains(property.Name)) property.WriteTo(writer);
                    break;
            }
        }
        writer.WriteEndObject();
    }

    private static void ToolConfig(Utf8JsonWriter writer, JsonElement body)
    {
        if (!body.TryGetProperty("tool_choice"u8, out var choice) || choice.ValueKind == JsonValueKind.Null) return;
        string mode;
        var names = new List<string>();
        if (choice.ValueKind == JsonValueKind.String)
        {
            mode = choice.GetString() switch
            {
                "none" => "NONE",
                "auto" => "AUTO",
                "required" => "ANY",
                _ => throw new GeminiRequestException("Invalid 'tool_choice': expected none, auto, required or a function.", "tool_choice"),
            };
        }
        else if (String(choice, "type") == "function" && choice.TryGetProperty("function"u8, out var function) && String(function, "name") is { } name)
        {
            mode = "ANY";
            names.Add(name);
        }
        else if (String(choice, "type") == "allowed_tools" && choice.TryGetProperty("allowed_tools"u8, out var allowed) && allowed.ValueKind == JsonValueKind.Object)
        {
            // Gemini restricts the functions only when a call is required (ANY); under AUTO it may call any declared one.
            mode = String(allowed, "mode") == "required" ? "ANY" : "AUTO";
            if (mode == "ANY" && allowed.TryGetProperty("tools"u8, out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var tool in list.EnumerateArray())
                {
                    if (tool.TryGetProperty("function"u8, out var f) && String(f, "name") is { } allowedName) names.Add(allowedName);
                }
            }
        }
        else throw new GeminiRequestException("Invalid 'tool_choice': expected none, auto, required or a function.", "tool_choice");

        writer.WriteStartObject("toolConfig"u8);
        writer.WriteStartObject("functionCallingConfig"u8);
        writer.WriteString("mode"u8, mode);
        if (names.Count > 0)
        {
            writer.WriteStartArray("allowedFunctionNames"u8);
            foreach (var name in names) writer.WriteStringValue(name);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    // ---- generationConfig ---------------------------------------------------------------------------------------

    private static void GenerationConfig(Utf8JsonWriter writer, ChatRequest request)
    {
        var body = request.Body;
        var open = false;
        void Open()
        {
            if (open) return;
            open = true;
            writer.WriteStartObject("generationConfig"u8);
        }

        if (request.MaxTokens is { } max)
        {
            Open();
            writer.WriteNumber("maxOutputTokens"u8, max);
        }
        foreach (var (from, to) in Numbers)
        {
            if (!body.TryGetProperty(from, out var value) || value.ValueKind != JsonValueKind.Number) continue;
            Open();
            writer.WritePropertyName(to);
            value.WriteTo(writer);
        }
        if (body.TryGetProperty("stop"u8, out var stop) && stop.ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            List<string> sequences = stop.ValueKind == JsonValueKind.String ? [stop.GetString()!] : stop.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!).ToList();
            if (sequences.Count > 0)
            {
                Open();
                writer.WriteStartArray("stopSequences"u8);
                foreach (var sequence in sequences) writer.WriteStringValue(sequence);
                writer.WriteEndArray();
            }
        }
        if (request.Choices > 1)
        {
            Open();
            writer.WriteNumber("candidateCount"u8, request.Choices);
        }
        if (body.TryGetProperty("response_format"u8, out var format) && format.ValueKind == JsonValueKind.Object)
        {
            switch (String(format, "type"))
            {
                case "json_object":
                    Open();
                    writer.WriteString("responseMimeType"u8, "application/json");
                    break;
                case "json_schema":
                    Open();
                    writer.WriteString("responseMimeType"u8, "application/json");
                    if (format.TryGetProperty("json_schema"u8, out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object
                        && jsonSchema.TryGetProperty("schema"u8, out var schema) && schema.ValueKind == JsonValueKind.Object)
                    {
                        writer.WritePropertyName("responseSchema"u8);
                        Schema(writer, schema);
                    }
                    break;
            }
        }
        if (String(body, "reasoning_effort") is { } effort && ThinkingBudget(effort) is { } budget)
        {
            Open();
            writer.WriteStartObject("thinkingConfig"u8);
            writer.WriteNumber("thinkingBudget"u8, budget);
            // Thought summaries stream as reasoning_content; with thinking off there are none to ask for.
            if (budget > 0) writer.WriteBoolean("includeThoughts"u8, true);
            writer.WriteEndObject();
        }
        if (open) writer.WriteEndObject();
    }

    private static readonly (string From, string To)[] Numbers =
    [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ];

    /// <summary>The budgets Google's own OpenAI-compatible endpoint maps <c>reasoning_effort</c> to.</summary>
    private static int? ThinkingBudget(string effort) => effort switch
    {
        "none" => 0,
        "minimal" or "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => null,
    };

    private static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // ---- parts --------------------------------------------------------------------------------------------------

    /// <summary>One part of a turn; <see cref="Signature"/> is a thought signature handed back where Gemini gave it.</summary>
    private abstract record Part
    {
        public string? Signature { get; init; }

        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            WriteData(writer);
            if (Signature is not null) writer.WriteString("thoughtSignature"u8, Signature);
            writer.WriteEndObject();
        }

        protected abstract void WriteData(Utf8JsonWriter writer);
    }

    private sealed record TextPart(string Text) : Part
    {
        protected override void WriteData(Utf8JsonWriter writer) => writer.WriteString("text"u8, Text);
    }

    private sealed record InlinePart(string MimeType, string Data) : Part
    {
        protected override void WriteData(Utf8JsonWriter writer)
        {
            writer.WriteStartObject("inlineData"u8);
            writer.WriteString("mimeType"u8, MimeType);
            writer.WriteString("data"u8, Data);
            writer.WriteEndObject();
        }
    }

    private sealed record FilePart(string Uri, string? MimeType) : Part
    {
        protected override void WriteData(Utf8JsonWriter writer)
        {
            writer.WriteStartObject("fileData"u8);
            if (MimeType is not null) writer.WriteString("mimeType"u8, MimeType);
            writer.WriteString("fileUri"u8, Uri);
            writer.WriteEndObject();
        }
    }

    private sealed record FunctionCallPart(string Name, string ArgumentsJson) : Part
    {
        protected override void WriteData(Utf8JsonWriter writer)
        {
            writer.WriteStartObject("functionCall"u8);
            writer.WriteString("name"u8, Name);
            writer.WritePropertyName("args"u8);
            writer.WriteRawValue(ArgumentsJson);
            writer.WriteEndObject();
        }
    }

    /// <summary>Gemini's response is an object: a tool's JSON object result goes as it is, any other text as <c>{"content": text}</c>.</summary>
    private sealed record FunctionResponsePart(string Name, string Result) : Part
    {
        protected override void WriteData(Utf8JsonWriter writer)
        {
            writer.WriteStartObject("functionResponse"u8);
            writer.WriteString("name"u8, Name);
            writer.WritePropertyName("response"u8);
            if (IsJsonObject(Result)) writer.WriteRawValue(Result);
            else
            {
                writer.WriteStartObject();
                writer.WriteString("content"u8, Result);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
    }
}
