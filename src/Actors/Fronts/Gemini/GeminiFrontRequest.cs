using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects;
using Orchestrator.Messages.Chat;
using static Orchestrator.Actors.Fronts.Gemini.GeminiFields;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>
/// A Gemini <c>GenerateContentRequest</c> (<c>POST /v1beta/models/{model}:generateContent</c>, Gemini CLI, the
/// google-genai SDKs) translated into the engine's OpenAI chat body. The caller's own body also travels on as
/// <see cref="NativeRequest"/>, so a gemini-kind upstream loses nothing; the translation is what every other upstream
/// reads:
/// <code>
///   systemInstruction                      -> a system message
///   contents[] user | model                -> user | assistant messages (thought parts left out, or, signed,
///                                             as reasoning_content + reasoning_signature)
///     functionCall (model)                 -> assistant tool_calls, ids the call's own or call_N by position
///     functionResponse (user)              -> tool messages answering those ids (by id, else by name in order)
///     inlineData image/audio/pdf, fileData -> image_url / input_audio / file parts
///   tools[].functionDeclarations           -> function tools (parameters or parametersJsonSchema)
///   toolConfig.functionCallingConfig       -> tool_choice (AUTO auto, ANY required or the one allowed name, NONE none)
///   generationConfig                       -> temperature, top_p, max_tokens, stop, n, penalties, seed,
///                                             response_format, reasoning_effort
/// </code>
/// The wire is the client's: a field or tool this cannot carry (<c>safetySettings</c>, <c>tools[1]:googleSearch</c>,
/// <c>generationConfig.topK</c>) is left out and named in <see cref="Translation.Dropped"/>, never refused. Only a
/// body that is not a request at all (no <c>contents</c>, a part that is not an object, a number that is a string)
/// is refused, with Google's 400 INVALID_ARGUMENT naming the field.
/// </summary>
public static class GeminiFrontRequest
{
    public sealed record Translation(byte[]? ChatBody, ImmutableArray<string> Dropped, ApiError? Error);

    private static readonly HashSet<string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
        { "image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/heic", "image/heif" };

    /// <param name="model">The model the URL names (<c>models/{model}:generateContent</c>); a <c>model</c> in the body is not read.</param>
    public static Translation Translate(JsonElement root, string model, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var dropped = new DroppedFields();
        try
        {
            using var json = new Utf8JsonWriter(buffer);
            Write(root, model, stream, json, dropped);
        }
        catch (InvalidGeminiRequestException ex)
        {
            return new Translation(null, [], GeminiFrontErrors.InvalidArgument(ex.Message));
        }
        catch (InvalidOperationException)
        {
            return new Translation(null, [], JsonBody.BadString);
        }
        return new Translation(buffer.WrittenSpan.ToArray(), dropped.ToImmutable(), null);
    }

    private static void Write(JsonElement root, string model, bool stream, Utf8JsonWriter json, DroppedFields dropped)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidGeminiRequestException("Invalid JSON payload received. The request body must be a JSON object.");
        json.WriteStartObject();
        json.WriteString("model"u8, model);
        json.WriteStartArray("messages"u8);
        WriteSystem(root, json);
        WriteContents(root, json, dropped);
        json.WriteEndArray();
        GeminiFrontTools.Write(root, json, dropped);
        GeminiFrontGeneration.Write(root, json, dropped);
        if (stream)
        {
            json.WriteBoolean("stream"u8, true);
            // The front always needs usage: the last response carries usageMetadata, whatever the client asked.
            json.WriteStartObject("stream_options"u8);
            json.WriteBoolean("include_usage"u8, true);
            json.WriteEndObject();
        }
        json.WriteEndObject();

        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is "contents" or "systemInstruction" or "system_instruction" or "tools" or "toolConfig" or "tool_config"
                or "generationConfig" or "generation_config" or "model") continue;
            dropped.Add(property.Name);   // safetySettings, cachedContent, labels, and whatever comes next
        }
    }

    // ---- system and contents ------------------------------------------------------------------------------------

    private static void WriteSystem(JsonElement root, Utf8JsonWriter json)
    {
        if (!Present(root, "systemInstruction", "system_instruction", out var system)) return;
        string text;
        if (system.ValueKind == JsonValueKind.String) text = system.GetString()!;
        else if (system.ValueKind == JsonValueKind.Object) text = string.Join("\n\n", Texts(system, "systemInstruction"));
        else throw Expected("systemInstruction", "a Content object");
        if (text.Length == 0) return;
        json.WriteStartObject();
        json.WriteString("role"u8, "system"u8);
        json.WriteString("content"u8, text);
        json.WriteEndObject();
    }

    /// <summary>The text parts of a Content (a system instruction): other parts have no place in a system message.</summary>
    private static IEnumerable<string> Texts(JsonElement content, string path)
    {
        if (!content.TryGetProperty("parts"u8, out var parts) || parts.ValueKind == JsonValueKind.Null) yield break;
        if (parts.ValueKind != JsonValueKind.Array) throw Expected($"{path}.parts", "a list");
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && String(part, "text") is { Length: > 0 } text && !IsThought(part)) yield return text;
        }
    }

    private sealed record Call(string Id, string Name)
    {
        public bool Answered { get; set; }
    }

    private static void WriteContents(JsonElement root, Utf8JsonWriter json, DroppedFields dropped)
    {
        if (!Present(root, "contents", null, out var contents)) throw new InvalidGeminiRequestException("* GenerateContentRequest.contents: contents is not specified");
        if (contents.ValueKind != JsonValueKind.Array) throw Expected("contents", "a list of Content objects");
        if (contents.GetArrayLength() == 0) throw new InvalidGeminiRequestException("* GenerateContentRequest.contents: contents is not specified");

        // The calls of the last model turn, which the next user turn's function responses answer.
        var pending = new List<Call>();
        var callNumber = 0;
        var i = 0;
        foreach (var content in contents.EnumerateArray())
        {
            var path = $"contents[{i++}]";
            if (content.ValueKind != JsonValueKind.Object) throw Expected(path, "a Content object");
            var role = String(content, "role") ?? "user";
            if (!content.TryGetProperty("parts"u8, out var parts) || parts.ValueKind == JsonValueKind.Null) continue;
            if (parts.ValueKind != JsonValueKind.Array) throw Expected($"{path}.parts", "a list of Part objects");
            if (role == "model") WriteModelTurn(parts, path, json, dropped, pending, ref callNumber);
            else WriteUserTurn(parts, path, json, dropped, pending);
        }
    }

    /// <summary>
    /// A model turn: its text as content, its function calls as tool_calls. Thoughts stay out, unless the turn carries
    /// a thought signature: then they go back as <c>reasoning_content</c> with the signature as
    /// <c>reasoning_signature</c> (an Anthropic route wants its signed thinking back before the tool results; this is
    /// where the Gemini encoder put it).
    /// </summary>
    private static void WriteModelTurn(JsonElement parts, string path, Utf8JsonWriter json, DroppedFields dropped, List<Call> pending, ref int callNumber)
    {
        var text = new StringBuilder();
        var thoughts = new StringBuilder();
        string? signature = null;
        var calls = new List<(string Id, string Name, string Arguments)>();
        var j = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var partPath = $"{path}.parts[{j++}]";
            if (part.ValueKind != JsonValueKind.Object) throw Expected(partPath, "a Part object");
            signature ??= String(part, "thoughtSignature") ?? String(part, "thought_signature");
            if (IsThought(part))
            {
                thoughts.Append(String(part, "text"));
                continue;
            }
            if (String(part, "text") is { } piece) text.Append(piece);
            else if (part.TryGetProperty("functionCall"u8, out var call) && call.ValueKind == JsonValueKind.Object)
            {
                var name = String(call, "name") ?? throw new InvalidGeminiRequestException($"* GenerateContentRequest.{partPath}.function_call.name: Name cannot be empty.");
                var arguments = call.TryGetProperty("args"u8, out var args) && args.ValueKind == JsonValueKind.Object ? args.GetRawText() : "{}";
                // The call's own id when it has one; else its position in the conversation, the same in every request
                // of it, so the response a later request sends still answers the same id.
                var id = String(call, "id") is { Length: > 0 } own ? own : $"call_{callNumber}";
                callNumber++;
                calls.Add((id, name, arguments));
            }
            else DropPart(part, "model", dropped);
        }
        pending.Clear();
        foreach (var (id, name, _) in calls) pending.Add(new Call(id, name));
        if (text.Length == 0 && calls.Count == 0) return;

        json.WriteStartObject();
        json.WriteString("role"u8, "assistant"u8);
        // OpenAI: content is null (not absent) when the turn is only tool calls.
        if (text.Length == 0) json.WriteNull("content"u8);
        else json.WriteString("content"u8, text.ToString());
        if (signature is not null && thoughts.Length > 0)
        {
            json.WriteString("reasoning_content"u8, thoughts.ToString());
            json.WriteString("reasoning_signature"u8, signature);
        }
        if (calls.Count > 0) ChatToolCalls.Write(json, calls);
        json.WriteEndObject();
    }

    /// <summary>
    /// A user turn: each function response becomes a tool message, placed first (OpenAI wants tool results right
    /// after the assistant turn that called them); text and media become one user message after them.
    /// </summary>
    private static void WriteUserTurn(JsonElement parts, string path, Utf8JsonWriter json, DroppedFields dropped, List<Call> pending)
    {
        var userParts = new List<JsonElement>();
        var j = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var partPath = $"{path}.parts[{j++}]";
            if (part.ValueKind != JsonValueKind.Object) throw Expected(partPath, "a Part object");
            if (IsThought(part)) continue;
            if (part.TryGetProperty("functionResponse"u8, out var response) && response.ValueKind == JsonValueKind.Object)
            {
                if (!WriteFunctionResponse(response, pending, json)) userParts.Add(part);
            }
            else if (String(part, "text") is not null || MediaUrl(part) is not null) userParts.Add(part);
            else DropPart(part, "user", dropped);
        }
        if (userParts.Count == 0) return;

        json.WriteStartObject();
        json.WriteString("role"u8, "user"u8);
        // One text part as a plain string: the form every OpenAI-compatible server accepts.
        if (userParts.Count == 1 && String(userParts[0], "text") is { } only) json.WriteString("content"u8, only);
        else
        {
            json.WriteStartArray("content"u8);
            foreach (var part in userParts) WriteUserPart(part, json);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>functionResponse</c> -> <c>{"role":"tool","tool_call_id","content"}</c> answering the call it names by id,
    /// else the first unanswered call of that name. False when it answers no call of the turn before: it is then said
    /// as text (an OpenAI upstream refuses a tool message that answers nothing).
    /// </summary>
    private static bool WriteFunctionResponse(JsonElement response, List<Call> pending, Utf8JsonWriter json)
    {
        var name = String(response, "name") ?? "";
        var id = String(response, "id");
        var call = (id is null ? null : pending.FirstOrDefault(c => !c.Answered && c.Id == id))
            ?? pending.FirstOrDefault(c => !c.Answered && c.Name == name);
        if (call is null) return false;
        call.Answered = true;
        json.WriteStartObject();
        json.WriteString("role"u8, "tool"u8);
        json.WriteString("tool_call_id"u8, call.Id);
        json.WriteString("content"u8, ResponseText(response));
        json.WriteEndObject();
        return true;
    }

    /// <summary>A function's result as the text a tool message carries: the <c>response</c> object's JSON as written.</summary>
    private static string ResponseText(JsonElement response) =>
        response.TryGetProperty("response"u8, out var result) && result.ValueKind != JsonValueKind.Null ? result.GetRawText() : "{}";

    private static void WriteUserPart(JsonElement part, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        if (String(part, "text") is { } text)
        {
            json.WriteString("type"u8, "text"u8);
            json.WriteString("text"u8, text);
        }
        else if (part.TryGetProperty("functionResponse"u8, out var response))
        {
            // A response to no call we know of: the model still reads what the function said.
            json.WriteString("type"u8, "text"u8);
            json.WriteString("text"u8, $"[{String(response, "name") ?? "function"} returned] {ResponseText(response)}");
        }
        else
        {
            var (kind, mime, url) = MediaUrl(part)!.Value;
            switch (kind)
            {
                case Media.Image:
                    json.WriteString("type"u8, "image_url"u8);
                    json.WriteStartObject("image_url"u8);
                    json.WriteString("url"u8, url);
                    json.WriteEndObject();
                    break;
                case Media.Audio:
                    json.WriteString("type"u8, "input_audio"u8);
                    json.WriteStartObject("input_audio"u8);
                    json.WriteString("data"u8, url);
                    json.WriteString("format"u8, mime.EndsWith("mp3", StringComparison.OrdinalIgnoreCase) || mime.EndsWith("mpeg", StringComparison.OrdinalIgnoreCase) ? "mp3" : "wav");
                    json.WriteEndObject();
                    break;
                default:
                    json.WriteString("type"u8, "file"u8);
                    json.WriteStartObject("file"u8);
                    json.WriteString("file_data"u8, url);
                    json.WriteEndObject();
                    break;
            }
        }
        json.WriteEndObject();
    }

    private enum Media { Image, Audio, Pdf }

    /// <summary>
    /// A media part the chat form carries: inline images as data URLs, wav/mp3 audio as input_audio (base64), PDFs as
    /// file data; a <c>fileData</c> image by its URI. Null for any other part (video, a file URI that is not an image).
    /// </summary>
    private static (Media Kind, string Mime, string Url)? MediaUrl(JsonElement part)
    {
        if ((part.TryGetProperty("inlineData"u8, out var inline) || part.TryGetProperty("inline_data"u8, out inline)) && inline.ValueKind == JsonValueKind.Object)
        {
            var mime = String(inline, "mimeType") ?? String(inline, "mime_type") ?? "";
            var data = String(inline, "data");
            if (data is null) return null;
            if (ImageTypes.Contains(mime)) return (Media.Image, mime, $"data:{mime};base64,{data}");
            if (mime is "audio/wav" or "audio/x-wav" or "audio/mp3" or "audio/mpeg") return (Media.Audio, mime, data);
            if (mime == "application/pdf") return (Media.Pdf, mime, $"data:{mime};base64,{data}");
            return null;
        }
        if ((part.TryGetProperty("fileData"u8, out var file) || part.TryGetProperty("file_data"u8, out file)) && file.ValueKind == JsonValueKind.Object)
        {
            var mime = String(file, "mimeType") ?? String(file, "mime_type") ?? "";
            if ((String(file, "fileUri") ?? String(file, "file_uri")) is { } uri && ImageTypes.Contains(mime)) return (Media.Image, mime, uri);
        }
        return null;
    }

    /// <summary>A part the chat form has no place for, named by what it holds (<c>contents.parts:executableCode</c>).</summary>
    private static void DropPart(JsonElement part, string role, DroppedFields dropped)
    {
        foreach (var property in part.EnumerateObject())
        {
            if (property.Name is "thoughtSignature" or "thought_signature" or "thought" or "partMetadata" or "videoMetadata" or "video_metadata") continue;
            var detail = property.Name is "inlineData" or "inline_data" or "fileData" or "file_data" && property.Value.ValueKind == JsonValueKind.Object
                ? $"{property.Name}:{String(property.Value, "mimeType") ?? String(property.Value, "mime_type") ?? "?"}"
                : property.Name;
            dropped.Add($"contents[{role}].parts:{detail}");
            return;
        }
    }

    private static bool IsThought(JsonElement part) => part.TryGetProperty("thought"u8, out var thought) && thought.ValueKind == JsonValueKind.True;
}
