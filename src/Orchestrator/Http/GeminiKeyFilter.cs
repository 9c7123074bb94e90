using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The client-key check for the Gemini front. Google's clients send the key as <c>x-goog-api-key</c> (the genai SDKs,
/// Gemini CLI) or in the URL's <c>?key=</c> (curl examples, older SDKs); <c>Authorization: Bearer</c> is taken too.
/// Compared like <see cref="ClientKeyFilter"/> does, ledger keys included. Refusals are Google's 401
/// <c>UNAUTHENTICATED</c>; the key never appears in a message or a log (<see cref="ApiKeyRedaction"/> scrubs <c>key=</c>).
/// </summary>
public sealed class GeminiKeyFilter(ClientKeys keys) : IEndpointFilter
{
    public const string KeyHeader = "x-goog-api-key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!keys.Enabled) return await next(context);

        var key = KeyOf(http.Request);
        if (key is null)
        {
            var authorization = http.Request.Headers.Authorization.ToString();
            return Refuse(string.IsNullOrWhiteSpace(authorization)
                ? "Method doesn't allow unregistered callers. Send an API key as 'x-goog-api-key: <key>' (or '?key=<key>', or 'Authorization: Bearer <key>')."
                : "The Authorization header must have the form 'Authorization: Bearer <key>'; or send the key as 'x-goog-api-key: <key>'.");
        }

        var (identity, refusal) = await keys.IdentifyAsync(key, http.RequestAborted);
        if (identity is not null)
        {
            ClientKeyFilter.SetCaller(http, identity);
            return await next(context);
        }
        return Refuse(refusal ?? "API key not valid. Please pass a valid API key: one of the configured client keys, as 'x-goog-api-key: <key>'.");
    }

    /// <summary>The key the request carries, in the order Google's clients use the places; null when there is none.</summary>
    public static string? KeyOf(HttpRequest request)
    {
        if (request.Headers[KeyHeader].ToString() is { } header && !string.IsNullOrWhiteSpace(header)) return header.Trim();
        if (request.Query["key"].ToString() is { } query && !string.IsNullOrWhiteSpace(query)) return query.Trim();
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization["Bearer ".Length..].Trim() is { Length: > 0 } bearer) return bearer;
        return null;
    }

    private static object Refuse(string message) => GeminiHttpErrors.Result(new ApiError(401, message, "authentication_error", null, "invalid_api_key"));
}
