using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// Reads an OpenAI Responses request (<c>POST /v1/responses</c>) and translates it into the OpenAI chat body the
/// engine runs, refusing with an OpenAI-shaped 400 that names the field whatever this stateless relay cannot do
/// (stored responses, conversations, background runs, built-in tools) and every field it does not know, so a client
/// never gets an answer that silently ignored part of its request.
/// <para>
/// What maps where: <c>instructions</c> becomes a leading system message; <c>input</c> (a string, or items) becomes
/// the messages (<see cref="ResponsesInput"/>); function tools and <c>tool_choice</c> become chat function tools;
/// <c>max_output_tokens</c> -> <c>max_tokens</c>; <c>text.format</c> -> <c>response_format</c>; <c>reasoning.effort</c>
/// -> <c>reasoning_effort</c>; <c>stream</c> always asks for usage, which the front reports on its last event.
/// </para>
/// </summary>
public static class ResponsesRequest
{
    /// <param name="Body">The caller's request as it came (for <see cref="NativeRequest"/> and the echo in the response object).</param>
    /// <param name="ChatBody">Its translation, an OpenAI chat completions body (UTF-8 JSON).</param>
    public sealed record Result(JsonElement Body, byte[]? ChatBody, bool Stream, ApiError? Error);

    // Fields read but not sent on: they only shape the response object (echoed) or have no chat equivalent that
    // changes the answer. Every other field not handled below is refused by name.
    private static readonly HashSet<string> Accepted =
    [
        "metadata", "include", "prompt_cache_key", "prompt_cache_retention", "service_tier", "truncation",
        "max_tool_calls", "safety_identifier", "stream_options",
    ];

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
        if (Refusal(root) is { } refused) return Fail(refused, root);
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
            return Fail(ApiError.InvalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter"), root);

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
        if (ResponsesInput.Write(input, json) is { } inputError) return Fail(inputError, root);
        json.WriteEndArray();

        var stream = false;
        var hasTools = false;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            ApiError? error = null;
            switch (property.Name)
            {
                case "model" or "input" or "instructions" or "store" or "previous_response_id" or "conversation" or "background" or "prompt":
                    break;   // written above, or refused by Refusal when set
                case "stream":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) stream = value.GetBoolean();
                    else if (value.ValueKind != JsonValueKind.Null) error = InvalidType("stream", "a boolean");
                    break;
                case "tools":
                    error = ResponsesTools.WriteTools(value, json, out hasTools);
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
                    error = ResponsesTools.WriteText(value, json);
                    break;
                case "reasoning":
                    error = WriteReasoning(value, json);
                    break;
                case "top_logprobs":
                    if (value.ValueKind == JsonValueKind.Null || (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var top) && top == 0)) break;
                    error = ApiError.InvalidRequest("'top_logprobs' is not supported by this relay; omit it or set it to 0.", "top_logprobs", "unsupported_parameter");
                    break;
                default:
                    if (!Accepted.Contains(property.Name))
                        error = ApiError.InvalidRequest($"Unknown parameter: '{ApiError.Quote(property.Name)}'.", ApiError.Quote(property.Name), "unknown_parameter");
                    break;
            }
            if (error is not null) return Fail(error, root);
        }
        if (Validate(root) is { } invalid) return Fail(invalid, root);

        if (hasTools)
        {
            if (root.TryGetProperty("tool_choice", out var choice) && ResponsesTools.WriteToolChoice(choice, json) is { } choiceError) return Fail(choiceError, root);
            if (root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind is JsonValueKind.True or JsonValueKind.False)
                json.WriteBoolean("parallel_tool_calls"u8, parallel.GetBoolean());
        }
        else if (root.TryGetProperty("tool_choice", out var choice) && ResponsesTools.CheckToolChoiceWithoutTools(choice) is { } choiceError) return Fail(choiceError, root);

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
        return new Result(root, output.WrittenSpan.ToArray(), stream, null);
    }

    /// <summary>What a stateless relay cannot do: keep or fetch responses and conversations, or run in the background.</summary>
    private static ApiError? Refusal(JsonElement root)
    {
        // OpenAI defaults store to true, but clients that omit it expect an answer, not a stored object: only an explicit true is refused.
        if (root.TryGetProperty("store", out var store) && store.ValueKind == JsonValueKind.True)
            return Stateless("store", "this relay is stateless and keeps no responses: set 'store' to false or omit it.");
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
        if (root.TryGetProperty("store", out var store) && store.ValueKind is not (JsonValueKind.False or JsonValueKind.Null))
            return InvalidType("store", "a boolean");
        if (root.TryGetProperty("background", out var background) && background.ValueKind is not (JsonValueKind.False or JsonValueKind.Null))
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
        foreach (var name in (ReadOnlySpan<string>)["prompt_cache_key", "prompt_cache_retention", "service_tier", "truncation", "safety_identifier"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)) return InvalidType(name, "a string");
        }
        return null;
    }

    private static ApiError? WriteReasoning(JsonElement reasoning, Utf8JsonWriter json)
    {
        if (reasoning.ValueKind == JsonValueKind.Null) return null;
        if (reasoning.ValueKind != JsonValueKind.Object) return InvalidType("reasoning", "an object");
        // summary / generate_summary: we relay the model's own reasoning text (reasoning_text), there is nothing to summarize.
        if (!reasoning.TryGetProperty("effort", out var effort) || effort.ValueKind == JsonValueKind.Null) return null;
        if (effort.ValueKind != JsonValueKind.String) return InvalidType("reasoning.effort", "a string");
        json.WriteString("reasoning_effort"u8, effort.GetString());
        return null;
    }

    internal static ApiError InvalidType(string param, string expected) =>
        ApiError.InvalidRequest($"Invalid type for '{param}': expected {expected}.", param, "invalid_type");

    internal static ApiError Unsupported(string param, string message) =>
        ApiError.InvalidRequest(message, param, "unsupported_parameter");

    private static Result Fail(ApiError error) => new(default, null, false, error);

    private static Result Fail(ApiError error, JsonElement root) => new(root, null, false, error);
}
