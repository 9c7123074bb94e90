using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// Reads an OpenAI Responses request (<c>POST /v1/responses</c>) and translates it into the OpenAI chat body the
/// engine runs. The wire is the client's and forward compatible: what the chat body can carry is mapped, and every
/// other field, item type or tool type is dropped and named in <see cref="Result.Dropped"/> (the edge says it in
/// <c>x-orchestrator-dropped</c> when the upstream read the translation; a native Responses upstream gets the
/// request as it came). Refused on a translated route (<see cref="Result.OnlyNative"/>), with an OpenAI-shaped 400
/// that says why, is only what would change the answer's meaning and cannot be emulated: state this relay does not
/// keep (<c>previous_response_id</c>, <c>conversation</c>, stored <c>prompt</c>s, item references) and
/// <c>background</c> runs. A native Responses upstream keeps that state and takes them as they came.
/// <para>
/// What maps where: <c>instructions</c> becomes a leading system message; <c>input</c> (a string, or items) becomes
/// the messages (<see cref="ResponsesInput"/>); function tools and <c>tool_choice</c> become chat function tools;
/// <c>max_output_tokens</c> -> <c>max_tokens</c>; <c>text.format</c> -> <c>response_format</c>; <c>reasoning.effort</c>
/// -> <c>reasoning_effort</c>; <c>prompt_cache_key</c>, <c>safety_identifier</c>, <c>service_tier</c>, <c>user</c>
/// as chat has them; <c>stream</c> always asks for usage, which the front reports on its last event. Namespace and
/// custom tools, and the tools of <c>additional_tools</c> items, go up as functions (<see cref="ResponsesToolMap"/>).
/// </para>
/// </summary>
public static class ResponsesRequest
{
    /// <param name="Body">The caller's request as it came (for <see cref="NativeRequest"/> and the echo in the response object).</param>
    /// <param name="ChatBody">Its translation, an OpenAI chat completions body (UTF-8 JSON).</param>
    /// <param name="Dropped">What the translation could not carry, named (<c>client_metadata</c>, <c>tools[7]:web_search</c>).</param>
    /// <param name="Tools">The declared tools and their chat names, for the way back.</param>
    public sealed record Result(JsonElement Body, byte[]? ChatBody, bool Stream, ApiError? Error)
    {
        public ImmutableArray<string> Dropped { get; init; } = [];

        /// <summary>
        /// Why only a native Responses upstream may take the request (it needs state the relay does not keep, or a
        /// background run): a translated route refuses it with this error (<see cref="NativeRequest.OnlyNative"/>).
        /// </summary>
        public ApiError? OnlyNative { get; init; }
        public ResponsesToolMap Tools { get; init; } = ResponsesToolMap.Empty;
    }

    // Chat completions has these under the same name and meaning: they go up as they came.
    private static readonly HashSet<string> SameInChat = ["prompt_cache_key", "safety_identifier", "service_tier"];

    public static Result Translate(ReadOnlySequence<byte> body)
    {
        if (body.IsEmpty) return Fail(ApiError.InvalidRequest("The request body is empty; expected a JSON object with 'model' and 'input'.", null, "invalid_json"));
        if (!JsonBody.TryParse(body, out var root, out var problem)) return Fail(ApiError.InvalidRequest(problem, null, "invalid_json"));
        if (root.ValueKind != JsonValueKind.Object) return Fail(ApiError.InvalidRequest("The request body must be a JSON object.", null, "invalid_json"));
        return Translate(root);
    }

    public static Result Translate(JsonElement root)
    {
        try
        {
            return TranslateObject(root);
        }
        catch (InvalidOperationException)
        {
            return Fail(JsonBody.BadString);
        }
    }

    private static Result TranslateObject(JsonElement root)
    {
        // Stored state and background runs: a native upstream has them, a translation cannot emulate them.
        var onlyNative = Refusal(root);
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
            return Fail(ApiError.InvalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter"), root);

        var dropped = new List<string>();
        var tools = new ResponsesToolMap();
        // Tools first: a call in the input goes up under its tool's chat name.
        if (root.TryGetProperty("tools", out var declared) && ResponsesTools.Collect(declared, "tools", tools, dropped) is { } toolsError) return Fail(toolsError, root);
        if (ResponsesInput.CollectTools(input, tools, dropped) is { } inputToolsError) return Fail(inputToolsError, root);

        var output = new ArrayBufferWriter<byte>(Math.Max(256, input.GetRawText().Length + 256));
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        // The model is copied as it came: the chat reader checks it (type, length) as it does for chat clients.
        if (root.TryGetProperty("model", out var model)) { json.WritePropertyName("model"u8); model.WriteTo(json); }

        json.WritePropertyName("messages"u8);
        json.WriteStartArray();
        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind != JsonValueKind.Null)
        {
            if (instructions.ValueKind != JsonValueKind.String) return Fail(InvalidType("instructions", "a string"), root);
            json.WriteStartObject();
            json.WriteString("role"u8, "system"u8);
            json.WriteString("content"u8, instructions.GetString());
            json.WriteEndObject();
        }
        if (ResponsesInput.Write(input, json, tools, dropped, ref onlyNative) is { } inputError) return Fail(inputError, root);
        json.WriteEndArray();

        var stream = false;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            ApiError? error = null;
            switch (property.Name)
            {
                case "model" or "input" or "instructions" or "previous_response_id" or "conversation" or "background" or "prompt" or "tools":
                    break;   // written above, or for a native route only (Refusal)
                case "store":
                    // Nothing is stored: an answer asked to be kept is still the same answer.
                    if (value.ValueKind == JsonValueKind.True) dropped.Add("store");
                    break;
                case "stream":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) stream = value.GetBoolean();
                    else if (value.ValueKind != JsonValueKind.Null) error = InvalidType("stream", "a boolean");
                    break;
                case "tool_choice" or "parallel_tool_calls":
                    break;   // written after the tools: chat refuses either without tools
                case "max_output_tokens":
                    if (value.ValueKind == JsonValueKind.Null) break;
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var max) || max < 1) error = InvalidType("max_output_tokens", "a positive integer");
                    else json.WriteNumber("max_tokens"u8, max);
                    break;
                case "temperature" or "top_p":
                    if (value.ValueKind == JsonValueKind.Null) break;
                    if (value.ValueKind != JsonValueKind.Number) error = InvalidType(property.Name, "a number");
                    else property.WriteTo(json);
                    break;
                case "user":
                    if (value.ValueKind == JsonValueKind.Null) break;
                    if (value.ValueKind != JsonValueKind.String) error = InvalidType("user", "a string");
                    else property.WriteTo(json);
                    break;
                case "text":
                    error = ResponsesTools.WriteText(value, json, dropped);
                    break;
                case "reasoning":
                    error = WriteReasoning(value, json, dropped);
                    break;
                case "top_logprobs":
                    if (value.ValueKind == JsonValueKind.Null || (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var top) && top == 0)) break;
                    dropped.Add("top_logprobs");
                    break;
                case var name when SameInChat.Contains(name):
                    if (value.ValueKind == JsonValueKind.Null) break;
                    if (value.ValueKind != JsonValueKind.String) error = InvalidType(name, "a string");
                    else property.WriteTo(json);
                    break;
                default:
                    // metadata is echoed in the response object; client_metadata, include, truncation and fields not
                    // known here have nothing in chat that carries them.
                    if (value.ValueKind != JsonValueKind.Null) dropped.Add(Named(property.Name));
                    break;
            }
            if (error is not null) return Fail(error, root);
        }
        if (Validate(root) is { } invalid) return Fail(invalid, root);

        ResponsesTools.WriteTools(tools, json);
        if (!tools.IsEmpty)
        {
            if (root.TryGetProperty("tool_choice", out var choice) && ResponsesTools.WriteToolChoice(choice, tools, json, dropped) is { } choiceError) return Fail(choiceError, root);
            if (root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind is JsonValueKind.True or JsonValueKind.False)
                json.WriteBoolean("parallel_tool_calls"u8, parallel.GetBoolean());
        }
        else if (root.TryGetProperty("tool_choice", out var choice))
        {
            if (tools.Declined > 0)
            {
                // Every tool the client declared was dropped: its choice goes with them.
                if (choice.ValueKind is not (JsonValueKind.Null or JsonValueKind.String) || choice.ValueKind == JsonValueKind.String && choice.GetString() == "required") dropped.Add("tool_choice");
            }
            else if (ResponsesTools.CheckToolChoiceWithoutTools(choice) is { } choiceError) return Fail(choiceError, root);
        }

        if (stream)
        {
            json.WriteBoolean("stream"u8, true);
            // The front reports usage on its last event whether or not the client asked.
            json.WriteStartObject("stream_options"u8);
            json.WriteBoolean("include_usage"u8, true);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.Flush();
        return new Result(root, output.WrittenSpan.ToArray(), stream, null) { Dropped = [.. dropped], Tools = tools, OnlyNative = onlyNative };
    }

    /// <summary>What a stateless relay cannot do: fetch stored responses, conversations and prompts, or run in the background.</summary>
    private static ApiError? Refusal(JsonElement root)
    {
        if (root.TryGetProperty("previous_response_id", out var previous) && previous.ValueKind != JsonValueKind.Null)
            return Stateless("previous_response_id", "this relay is stateless and keeps no responses: send the whole conversation in 'input' instead of 'previous_response_id'.");
        if (root.TryGetProperty("conversation", out var conversation) && conversation.ValueKind != JsonValueKind.Null)
            return Stateless("conversation", "this relay is stateless and keeps no conversations: send the whole conversation in 'input' instead.");
        if (root.TryGetProperty("background", out var background) && background.ValueKind == JsonValueKind.True)
            return Stateless("background", "this relay is stateless and cannot run a response in the background: omit 'background' or set it to false.");
        if (root.TryGetProperty("prompt", out var prompt) && prompt.ValueKind != JsonValueKind.Null)
            return Stateless("prompt", "this relay is stateless and has no stored prompts: send the prompt's text in 'instructions' and 'input' instead.");
        return null;
    }

    private static ApiError Stateless(string param, string message) =>
        ApiError.InvalidRequest($"'{param}' is not supported: {message}", param, "unsupported_parameter");

    /// <summary>Fields accepted without being sent on still have to be of the right shape.</summary>
    private static ApiError? Validate(JsonElement root)
    {
        if (root.TryGetProperty("store", out var store) && store.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            return InvalidType("store", "a boolean");
        if (root.TryGetProperty("background", out var background) && background.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            return InvalidType("background", "a boolean");
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            return InvalidType("metadata", "an object");
        if (metadata.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in metadata.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String) return InvalidType($"metadata.{ApiError.Quote(entry.Name)}", "a string");
            }
        }
        if (root.TryGetProperty("include", out var include) && include.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
            return InvalidType("include", "an array of strings");
        if (root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            return InvalidType("parallel_tool_calls", "a boolean");
        if (root.TryGetProperty("stream_options", out var options) && options.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            return InvalidType("stream_options", "an object");
        foreach (var name in (ReadOnlySpan<string>)["prompt_cache_retention", "truncation"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)) return InvalidType(name, "a string");
        }
        return null;
    }

    private static ApiError? WriteReasoning(JsonElement reasoning, Utf8JsonWriter json, List<string> dropped)
    {
        if (reasoning.ValueKind == JsonValueKind.Null) return null;
        if (reasoning.ValueKind != JsonValueKind.Object) return InvalidType("reasoning", "an object");
        // summary, context, ...: we relay the model's own reasoning text (reasoning_text), there is nothing to summarize.
        foreach (var field in reasoning.EnumerateObject())
        {
            if (!field.NameEquals("effort"u8) && field.Value.ValueKind != JsonValueKind.Null) dropped.Add($"reasoning.{Named(field.Name)}");
        }
        if (!reasoning.TryGetProperty("effort", out var effort) || effort.ValueKind == JsonValueKind.Null) return null;
        if (effort.ValueKind != JsonValueKind.String) return InvalidType("reasoning.effort", "a string");
        json.WriteString("reasoning_effort"u8, effort.GetString());
        return null;
    }

    /// <summary>
    /// A client's name as <c>x-orchestrator-dropped</c> can carry it: printable ASCII (a header value), at most 48
    /// characters, the rest cut with <c>...</c>.
    /// </summary>
    internal static string Named(string text)
    {
        const int max = 48;
        var clean = string.Create(Math.Min(text.Length, max), text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = source[i] is >= ' ' and <= '~' and not ',' ? source[i] : '_';
        });
        return text.Length > max ? clean + "..." : clean;
    }

    internal static ApiError InvalidType(string param, string expected) =>
        ApiError.InvalidRequest($"Invalid type for '{param}': expected {expected}.", param, "invalid_type");

    internal static ApiError Unsupported(string param, string message) =>
        ApiError.InvalidRequest(message, param, "unsupported_parameter");

    private static Result Fail(ApiError error) => new(default, null, false, error);

    private static Result Fail(ApiError error, JsonElement root) => new(root, null, false, error);
}
