using System.Net.Http.Headers;
using System.Text.Json;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// The one place where an upstream failure gets its <see cref="FailureKind"/>. Every decision (next route,
/// return to the caller) reads the kind, never a status code.
/// </summary>
public static class FailureClassifier
{
    /// <summary>How much of an error body we read: enough for any real error object, bounded for a hostile one.</summary>
    private const int MaxErrorBodyBytes = 64 * 1024;

    public static FailureKind Classify(int status) => status switch
    {
        400 or 413 or 422 => FailureKind.CallerFault,
        401 or 402 or 403 => FailureKind.Unauthorized,   // 402: our account with the provider, not the caller
        404 => FailureKind.ModelNotFound,
        408 => FailureKind.Timeout,
        429 => FailureKind.RateLimited,
        >= 500 => FailureKind.ServerError,               // includes Anthropic-style 529 overloaded
        _ => FailureKind.Protocol,
    };

    public static FailureKind Classify(Exception exception) => exception switch
    {
        UpstreamTruncatedException => FailureKind.Truncated,
        TimeoutException => FailureKind.Timeout,
        OperationCanceledException => FailureKind.Timeout,
        HttpRequestException { InnerException: TimeoutException } => FailureKind.Timeout,
        HttpRequestException or IOException => FailureKind.Transport,
        JsonException or UpstreamProtocolException => FailureKind.Protocol,
        _ => FailureKind.Internal,
    };

    public static UpstreamFailure FromException(Exception exception)
    {
        // An error event that says its status is classified like a refusal with that status.
        if (exception is UpstreamProtocolException { Status: { } status } said)
            return FromRefusal(status, said.ProviderMessage, said.Code, null, null);
        var kind = Classify(exception);
        var message = exception switch
        {
            HttpRequestException http => $"transport error ({http.HttpRequestError}): {Describe(http)}",
            UpstreamTruncatedException or UpstreamTimeoutException => exception.Message,
            TimeoutException or OperationCanceledException => "timed out",
            UpstreamProtocolException p => p.Message,
            IOException io => $"transport error: {io.Message}",
            JsonException => "the response was not valid JSON",
            _ => "internal error",
        };
        return new UpstreamFailure(kind, null, message);
    }

    /// <summary>Socket-level detail without headers or bodies: "Connection refused (127.0.0.1:9)".</summary>
    private static string Describe(HttpRequestException http) =>
        (http.InnerException as System.Net.Sockets.SocketException)?.Message ?? http.HttpRequestError.ToString();

    /// <summary>Reads the provider's error body (bounded) and classifies the response.</summary>
    public static async Task<UpstreamFailure> FromResponseAsync(HttpResponseMessage response, Secret? providerKey, CancellationToken ct)
    {
        var (message, code, param) = await ReadErrorAsync(response, ct);
        return FromRefusal((int)response.StatusCode, message, code, param, providerKey) with { RetryAfter = RetryAfter(response.Headers) };
    }

    /// <summary>A provider's refusal (HTTP status, or a realtime error event's status) as a classified failure.</summary>
    public static UpstreamFailure FromRefusal(int status, string? message, string? code, string? param, Secret? providerKey)
    {
        var kind = Classify(status);
        // The provider's own words reach the caller only when the caller is at fault; everything else is
        // summarised, since a provider's auth or server errors may describe our key or its internals.
        // Every field is the provider's text: any of them may quote our key (an error code included).
        code = code is null ? null : Redact(code, providerKey);
        param = param is null ? null : Redact(param, providerKey);
        var summary = kind == FailureKind.CallerFault && message is not null
            ? Redact(message, providerKey)
            : $"HTTP {status}{(code is null ? "" : $" ({code})")}";
        return new UpstreamFailure(kind, status, summary, code, param);
    }

    /// <summary>What a client is told when its stream ends in a failure: the session's own verdict, or the failure classified.</summary>
    public static ApiError StreamError(Exception exception) =>
        exception is ChatFailedException failed ? failed.Error : StreamError(FromException(exception));

    public static ApiError StreamError(UpstreamFailure failure) => ApiError.UpstreamFailed($"The upstream stream failed: {failure.Message}.");

    internal static TimeSpan? RetryAfter(HttpResponseHeaders headers)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.FirstOrDefault(), out var millis) && millis >= 0)
            return TimeSpan.FromMilliseconds(millis);
        var retryAfter = headers.RetryAfter;
        if (retryAfter?.Delta is { } delta) return delta;
        if (retryAfter?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }

    private static async Task<(string? Message, string? Code, string? Param)> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var doc = JsonDocument.Parse(await ReadBodyAsync(response, ct));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("error", out var error))
                return (null, null, null);
            if (error.ValueKind == JsonValueKind.String) return (error.GetString(), null, null);
            return (Text(error, "message"), Text(error, "code") ?? Text(error, "type"), Text(error, "param"));
        }
        catch (Exception ex) when (ex is JsonException or IOException or HttpRequestException)
        {
            return (null, null, null);   // not an OpenAI-shaped error: the status alone classifies it
        }
    }

    /// <summary>The start of an error body, bounded for a hostile one (kinds with their own error shape parse it themselves).</summary>
    internal static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[MaxErrorBodyBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += read;
        return buffer.AsMemory(0, length);
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    /// <summary>The shortest piece of a key that is scrubbed wherever it stands (shorter runs are too common to mean the key).</summary>
    public const int MinSecretFragment = 8;

    /// <summary>
    /// A provider may quote the key it was sent, whole, cut short or with characters elided (<c>sk-UPSTREA...-777</c>):
    /// every run of <see cref="MinSecretFragment"/> or more characters of the key is replaced, wherever it stands.
    /// </summary>
    public static string Redact(string text, Secret? key)
    {
        if (key is null || text.Length < MinSecretFragment) return text;
        var secret = key.Reveal();
        if (secret.Length < MinSecretFragment) return text.Replace(secret, "***", StringComparison.Ordinal);
        System.Text.StringBuilder? scrubbed = null;
        var kept = 0;
        for (var i = 0; i <= text.Length - MinSecretFragment;)
        {
            var run = LongestRunOf(secret, text.AsSpan(i));
            if (run < MinSecretFragment)
            {
                i++;
                continue;
            }
            (scrubbed ??= new System.Text.StringBuilder(text.Length)).Append(text, kept, i - kept).Append("***");
            i += run;
            kept = i;
        }
        return scrubbed is null ? text : scrubbed.Append(text, kept, text.Length - kept).ToString();
    }

    /// <summary>How many characters at the start of <paramref name="text"/> stand somewhere in <paramref name="secret"/> as one run.</summary>
    private static int LongestRunOf(string secret, ReadOnlySpan<char> text)
    {
        var longest = 0;
        for (var j = 0; j < secret.Length; j++)
        {
            var n = 0;
            while (j + n < secret.Length && n < text.Length && secret[j + n] == text[n]) n++;
            longest = Math.Max(longest, n);
        }
        return longest;
    }
}
