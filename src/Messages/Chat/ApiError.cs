namespace Orchestrator.Messages.Chat;

/// <summary>
/// An error as the OpenAI API shapes it (<c>{"error":{"message","type","param","code"}}</c>) with the HTTP
/// status it travels with. The message is ours: never exception text, a stack trace or an upstream body.
/// </summary>
public sealed record ApiError(int Status, string Message, string Type, string? Param, string? Code)
{
    /// <summary>Response headers the error travels with (Retry-After, x-ratelimit-*); empty for most.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The most of a client's own text a message quotes back.</summary>
    public const int MaxQuotedLength = 64;

    /// <summary>A client's text as a message quotes it: at most <see cref="MaxQuotedLength"/> characters, marked when cut.</summary>
    public static string Quote(string text) => text.Length <= MaxQuotedLength ? text : string.Concat(text.AsSpan(0, MaxQuotedLength), "…");

    public static ApiError InvalidRequest(string message, string? param, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static ApiError InvalidApiKey(string message) =>
        new(401, message, "invalid_request_error", null, "invalid_api_key");

    public static ApiError ModelNotFound(string message) =>
        new(404, message, "invalid_request_error", "model", "model_not_found");

    public static ApiError UpstreamFailed(string message) =>
        new(502, message, "api_error", null, "upstream_error");

    public static ApiError NoProviderAvailable(string message) =>
        new(503, message, "api_error", null, "no_provider_available");

    public static ApiError Internal(string message) =>
        new(500, message, "api_error", null, "internal_error");
}
