using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The client-key check for the Anthropic front. Anthropic clients send the key as <c>x-api-key</c>; current SDKs
/// (and Claude Code with an auth token) send <c>Authorization: Bearer</c> instead, so either is accepted, compared
/// like <see cref="ClientKeyFilter"/> does. Any <c>anthropic-version</c> (or none) is accepted: newer dates keep
/// appearing and the relay's answer does not change with them. Refusals are Anthropic's 401
/// <c>authentication_error</c>; the key never appears in a message or a log.
/// </summary>
public sealed class MessagesKeyFilter(ClientKeys keys) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!keys.Enabled) return await next(context);

        var apiKey = http.Request.Headers["x-api-key"].ToString();
        var authorization = http.Request.Headers.Authorization.ToString();
        string key;
        if (!string.IsNullOrWhiteSpace(apiKey)) key = apiKey.Trim();
        else if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) key = authorization["Bearer ".Length..].Trim();
        else if (!string.IsNullOrWhiteSpace(authorization))
            return Refuse("The Authorization header must have the form 'Authorization: Bearer <key>'; or send the key as 'x-api-key: <key>'.");
        else return Refuse("x-api-key header is required (or 'Authorization: Bearer <key>').");

        var (identity, refusal) = await keys.IdentifyAsync(key, http.RequestAborted);
        if (identity is not null)
        {
            ClientKeyFilter.SetCaller(http, identity);
            return await next(context);
        }
        return Refuse(refusal ?? "invalid x-api-key: send one of the configured client keys as 'x-api-key: <key>' or 'Authorization: Bearer <key>'.");
    }

    private static object Refuse(string message) =>
        MessagesHttpErrors.Result(new ApiError(401, message, "authentication_error", null, "invalid_api_key"));
}
