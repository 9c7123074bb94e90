using System.Globalization;
using System.Text.Json;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Dialects.Gemini;

/// <summary>
/// Gemini's failures in the engine's words. Its error body is Google's RPC status
/// (<c>{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[...]}}</c>): the HTTP status
/// classifies it as for any provider, except where Gemini's status says more (a bad key is a 400
/// <c>INVALID_ARGUMENT</c> with reason <c>API_KEY_INVALID</c>: our key, not the caller's request), and a
/// <c>RetryInfo</c> detail is a Retry-After.
/// </summary>
public static class GeminiErrors
{
    /// <summary>The code a safety block carries, as OpenAI names its content filter.</summary>
    public const string ContentFilter = "content_filter";

    /// <summary>Gemini blocked the prompt itself (<c>promptFeedback.blockReason</c>): any route would, so it is the caller's fault.</summary>
    public static ApiError PromptBlocked(string reason) =>
        ApiError.InvalidRequest($"The provider's safety filter blocked the prompt ({reason}).", "messages", ContentFilter);

    /// <summary>A whole answer that is nothing but a safety block: said as a refusal, not as an empty success.</summary>
    public static UpstreamFailure AnswerBlocked(string reason) =>
        new(FailureKind.CallerFault, 400, $"The provider's safety filter blocked the answer ({reason}).", ContentFilter);

    public static UpstreamFailure Refusal(ApiError error) => new(FailureKind.CallerFault, error.Status, error.Message, error.Code, error.Param);

    /// <summary>An error object inside the stream: the attempt failed (the message is ours, the status Gemini's).</summary>
    public static ApiError StreamError(string? status, int? code) =>
        ApiError.UpstreamFailed($"The upstream reported an error mid-stream ({status ?? (code is { } c ? c.ToString(CultureInfo.InvariantCulture) : "unknown")}).");

    /// <summary>Reads Gemini's error body (bounded) and classifies the response.</summary>
    public static async Task<UpstreamFailure> FromResponseAsync(HttpResponseMessage response, Secret? providerKey, CancellationToken ct)
    {
        var (message, status, reason, retryDelay) = (default(string), default(string), default(string), default(TimeSpan?));
        try
        {
            (message, status, reason, retryDelay) = Parse((await FailureClassifier.ReadBodyAsync(response, ct)).Span);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The status alone classifies it.
        }
        return Classify((int)response.StatusCode, message, status, reason, providerKey) with
        {
            RetryAfter = FailureClassifier.RetryAfter(response.Headers) ?? retryDelay,
        };
    }

    public static UpstreamFailure Classify(int httpStatus, string? message, string? status, string? reason, Secret? providerKey)
    {
        // Gemini's answer to a bad key is 400 INVALID_ARGUMENT "API key not valid. Please pass a valid API key."
        var badKey = reason is "API_KEY_INVALID" or "API_KEY_SERVICE_BLOCKED" or "API_KEY_HTTP_REFERRER_BLOCKED"
            || message?.Contains("API key not valid", StringComparison.OrdinalIgnoreCase) == true
            || status is "UNAUTHENTICATED" or "PERMISSION_DENIED";
        // FAILED_PRECONDITION is about our account ("free tier is not available in your country"), not the request.
        if (badKey || status == "FAILED_PRECONDITION")
        {
            // Google's reason and status are the provider's text too: scrubbed of our key like the rest.
            var said = FailureClassifier.Redact(reason ?? status ?? "unauthorized", providerKey);
            return new UpstreamFailure(FailureKind.Unauthorized, httpStatus, $"HTTP {httpStatus} ({said})", status is null ? null : FailureClassifier.Redact(status, providerKey));
        }
        var failure = FailureClassifier.FromRefusal(httpStatus, message, status, null, providerKey);
        // "The input token count (N) exceeds the maximum number of tokens allowed (M)": named as OpenAI names it,
        // the request can move on to a large-context route.
        if (failure.IsCallerFault && message?.Contains("exceeds the maximum number of tokens", StringComparison.OrdinalIgnoreCase) == true)
            return failure with { Code = RetryPolicy.ContextLengthExceeded };
        return failure;
    }

    private static (string? Message, string? Status, string? Reason, TimeSpan? RetryDelay) Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("error"u8, out var error) || error.ValueKind != JsonValueKind.Object)
                return default;
            string? reason = null;
            TimeSpan? delay = null;
            if (error.TryGetProperty("details"u8, out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                {
                    reason ??= String(detail, "reason");
                    delay ??= Duration(String(detail, "retryDelay"));
                }
            }
            return (String(error, "message"), String(error, "status"), reason, delay);
        }
        catch (JsonException)
        {
            return default;   // not Google's error shape: the status alone classifies it
        }
    }

    /// <summary>A protobuf Duration in JSON: "37s", "0.5s".</summary>
    private static TimeSpan? Duration(string? text) =>
        text is { Length: > 1 } && text[^1] == 's' && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
