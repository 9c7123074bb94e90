using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Actors.Simulator;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// Reads and validates a chat completion body ourselves, so that malformed JSON or a missing field gets the
/// OpenAI-shaped 400 naming the field rather than a framework default. Only the fields the engine acts on are
/// checked; everything else is passed upstream as it came.
/// </summary>
public static class ChatRequestReader
{
    public const string FaultHeader = "x-simulator-fault";

    /// <summary>OpenAI's own limit on a model id; longer is a client bug or an attack, and never a configured id.</summary>
    public const int MaxModelLength = 256;

    /// <summary>OpenAI's limit on <c>n</c>.</summary>
    public const int MaxChoices = 128;

    /// <summary>A legal plan in canonical form is under 200 characters; this bounds what a refusal can quote back.</summary>
    public const int MaxFaultHeaderLength = 256;

    public sealed record Result(ChatRequest? Request, ApiError? Error);

    public static Task<Result> ReadAsync(HttpRequest request, CancellationToken ct) => ReadAsync(request, Parse, ct);

    /// <summary>
    /// Reads the whole body and hands it to <paramref name="parse"/> (a front's own reader, which ends in
    /// <see cref="Parse"/>), with the same body limit and fault-plan header as chat completions.
    /// </summary>
    public static async Task<Result> ReadAsync(HttpRequest request, Func<ReadOnlySequence<byte>, Result> parse, CancellationToken ct)
    {
        var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        // Decided from the header before a byte of the body is read; without one (chunked) Kestrel's limit stops the read.
        if (request.ContentLength > limit) return TooLarge(request, limit);
        ReadOnlySequence<byte> body;
        ReadResult read;
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                read = await reader.ReadAsync(ct);
                if (read.IsCompleted || read.IsCanceled) break;
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);   // keep everything until the body is whole
            }
            body = read.Buffer;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(request, limit);
        }
        Result parsed;
        try
        {
            parsed = parse(body);
        }
        finally
        {
            reader.AdvanceTo(body.End);
        }
        return parsed.Request is { } chat ? WithFaultPlan(chat, request.Headers[FaultHeader].ToString()) : parsed;
    }

    /// <summary>
    /// The rest of an oversized body is never read, so the connection closes after the answer instead of
    /// draining what the client may still be sending.
    /// </summary>
    private static Result TooLarge(HttpRequest request, long? limit)
    {
        request.HttpContext.Response.Headers.Connection = "close";
        return Fail(new ApiError(413, $"The request body is larger than the {limit} bytes this service accepts.", "invalid_request_error", null, "request_too_large"));
    }

    /// <summary>
    /// The simulator's fault plan travels as a header so the body stays exactly what a client would send a real
    /// provider. Validated here so that a typo gets a 400 naming the key instead of a request that silently works.
    /// </summary>
    internal static Result WithFaultPlan(ChatRequest chat, string header)
    {
        // Several header lines arrive joined by ',' which the plan grammar accepts as a separator.
        if (header.Length == 0) return new Result(chat, null);
        if (header.Length > MaxFaultHeaderLength)
            return Fail(TooLong(FaultHeader, $"Invalid {FaultHeader} header", MaxFaultHeaderLength, header.Length));
        if (!FaultPlan.TryParse(header, out var plan, out var error))
            return Fail(ApiError.InvalidRequest($"Invalid {FaultHeader} header: {error}.", FaultHeader, "invalid_fault_plan"));
        return new Result(chat with { SimulatorFault = plan.ToString() }, null);
    }

    public static Result Parse(ReadOnlySequence<byte> body)
    {
        try
        {
            return ParseBody(body);
        }
        catch (InvalidOperationException)
        {
            return Fail(Actors.Dialects.JsonBody.BadString);
        }
    }

    private static Result ParseBody(ReadOnlySequence<byte> body)
    {
        if (body.IsEmpty) return Fail(ApiError.InvalidRequest("The request body is empty; expected a JSON object with 'model' and 'messages'.", null, "invalid_json"));

        if (!Actors.Dialects.JsonBody.TryParse(body, out var root, out var problem)) return Fail(ApiError.InvalidRequest(problem, null, "invalid_json"));
        if (root.ValueKind != JsonValueKind.Object)
            return Fail(ApiError.InvalidRequest("The request body must be a JSON object.", null, "invalid_json"));

        if (!root.TryGetProperty("model", out var model) || model.ValueKind == JsonValueKind.Null)
            return Fail(ApiError.InvalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter"));
        var modelId = model.ValueKind == JsonValueKind.String ? model.GetString() : null;
        if (string.IsNullOrWhiteSpace(modelId)) return Fail(InvalidType("model", "a non-empty string"));
        // Checked here so a huge id never reaches the front actor's "did you mean" search or a 404 message.
        if (modelId.Length > MaxModelLength) return Fail(TooLong("model", "Invalid 'model'", MaxModelLength, modelId.Length));

        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null)
            return Fail(ApiError.InvalidRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter"));
        if (messages.ValueKind != JsonValueKind.Array) return Fail(InvalidType("messages", "an array"));
        if (messages.GetArrayLength() == 0)
            return Fail(ApiError.InvalidRequest("Invalid 'messages': empty array. Expected an array with at least one message.", "messages", "empty_array"));
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object) return Fail(InvalidType($"messages[{index}]", "an object"));
            if (!message.TryGetProperty("role", out var role))
                return Fail(ApiError.InvalidRequest($"Missing required parameter: 'messages[{index}].role'.", $"messages[{index}].role", "missing_required_parameter"));
            if (role.ValueKind != JsonValueKind.String) return Fail(InvalidType($"messages[{index}].role", "a string"));
            index++;
        }

        if (!OptionalBool(root, "stream", out var stream)) return Fail(InvalidType("stream", "a boolean"));
        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (options.ValueKind != JsonValueKind.Object) return Fail(InvalidType("stream_options", "an object"));
            if (!OptionalBool(options, "include_usage", out includeUsage)) return Fail(InvalidType("stream_options.include_usage", "a boolean"));
        }
        if (!OptionalPositiveInt(root, "max_completion_tokens", out var maxTokens)) return Fail(InvalidType("max_completion_tokens", "a positive integer"));
        if (maxTokens is null && !OptionalPositiveInt(root, "max_tokens", out maxTokens)) return Fail(InvalidType("max_tokens", "a positive integer"));
        var (choices, choicesError) = Choices(root);
        if (choicesError is not null) return Fail(choicesError);

        return new Result(new ChatRequest(modelId, stream, stream && includeUsage, maxTokens, root) { Choices = choices }, null);
    }

    private static bool OptionalBool(JsonElement obj, string name, out bool value)
    {
        value = false;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return true;
        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return false;
        value = element.GetBoolean();
        return true;
    }

    private static bool OptionalPositiveInt(JsonElement obj, string name, out int? value)
    {
        value = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return true;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var number) || number < 1) return false;
        value = number;
        return true;
    }

    /// <summary>
    /// <c>n</c>, the number of choices: absent or null is 1. It is sent upstream as it came, so anything the engine
    /// or a provider could not read as a whole number from 1 to <see cref="MaxChoices"/> is refused here.
    /// </summary>
    private static (int Value, ApiError? Error) Choices(JsonElement root)
    {
        if (!root.TryGetProperty("n", out var n) || n.ValueKind == JsonValueKind.Null) return (1, null);
        if (n.ValueKind != JsonValueKind.Number) return (0, InvalidType("n", "an integer"));
        if (n.TryGetInt64(out var value))
        {
            // OpenAI error shape: "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."
            if (value < 1)
                return (0, ApiError.InvalidRequest($"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {value} instead.", "n", "integer_below_min_value"));
            if (value > MaxChoices)
                return (0, ApiError.InvalidRequest($"Invalid 'n': integer above maximum value. Expected a value <= {MaxChoices}, but got {value} instead.", "n", "integer_above_max_value"));
            return ((int)value, null);
        }
        // Digits past Int64: still a whole number, just far out of range (not quoted back: it may be any length).
        if (IsIntegerLiteral(n))
            return (0, n.GetRawText().StartsWith('-')
                ? ApiError.InvalidRequest("Invalid 'n': integer below minimum value. Expected a value >= 1.", "n", "integer_below_min_value")
                : ApiError.InvalidRequest($"Invalid 'n': integer above maximum value. Expected a value <= {MaxChoices}.", "n", "integer_above_max_value"));
        // OpenAI error shape: "Invalid type for 'n': expected an integer, but got a decimal number instead."
        return (0, ApiError.InvalidRequest("Invalid type for 'n': expected an integer, but got a decimal number instead.", "n", "invalid_type"));
    }

    /// <summary>Whether a JSON number is written as a whole number (no fraction, no exponent), e.g. 1.0 and 1e2 are not.</summary>
    private static bool IsIntegerLiteral(JsonElement number)
    {
        var raw = number.GetRawText().AsSpan();
        if (raw.StartsWith("-")) raw = raw[1..];
        return raw.Length > 0 && !raw.ContainsAnyExcept("0123456789");
    }

    // OpenAI error shape: "Invalid 'model': string too long. Expected a string with maximum length 256, but got a string with length 300 instead."
    private static ApiError TooLong(string param, string what, int max, int length) =>
        ApiError.InvalidRequest($"{what}: string too long. Expected a string with maximum length {max}, but got a string with length {length} instead.", param, "string_above_max_length");

    private static ApiError InvalidType(string param, string expected) =>
        ApiError.InvalidRequest($"Invalid type for '{param}': expected {expected}.", param, "invalid_type");

    private static Result Fail(ApiError error) => new(null, error);
}
