using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>What a request's <c>Authorization</c> header is, as far as the admin API is concerned.</summary>
public enum AdminAccess
{
    /// <summary>One of <c>orchestrator.admin.keys</c>.</summary>
    Granted,
    /// <summary>No Authorization header.</summary>
    Missing,
    /// <summary>A header without the <c>Bearer </c> prefix.</summary>
    NotBearer,
    /// <summary>A client key (<c>orchestrator.auth.keys</c>): never an admin key.</summary>
    ClientKey,
    /// <summary>Any other key.</summary>
    Wrong,
}

/// <summary>
/// Guards <c>/admin/*</c> (<see cref="AdminEndpoints.MapAdminGroup"/>). No admin key configured: the admin API does not
/// exist, and every path under it answers the same 404 as an unknown path, whatever the method and key. Admin keys
/// configured: the caller must send one as <c>Authorization: Bearer &lt;key&gt;</c>, else 401; a client key is refused
/// like any wrong key. The check runs before routing decides anything visible, so a caller without the key gets 401
/// for a path that exists and for one that does not: it cannot learn which admin paths there are.
/// </summary>
public sealed class AdminKeyFilter(OrchestratorSettings settings) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!settings.Admin.Enabled) return ValueTask.FromResult<object?>(UnknownEndpoints.Result(http));
        return Check(http, settings) switch
        {
            AdminAccess.Granted => next(context),
            AdminAccess.Missing => Refuse("You didn't provide an API key. The admin API needs an admin key in the Authorization header: 'Authorization: Bearer <key>'."),
            AdminAccess.NotBearer => Refuse(NotBearerMessage),
            _ => Refuse("Incorrect API key provided. The admin API needs one of the admin keys (orchestrator.admin.keys) as 'Authorization: Bearer <key>'."),
        };
    }

    /// <summary>Whether the request carries an admin key: the check the admin endpoints and <c>GET /v1/providers</c> use.</summary>
    public static bool IsAdmin(HttpContext http, OrchestratorSettings settings) => Check(http, settings) == AdminAccess.Granted;

    /// <summary>Which kind of key the request carries; every comparison is constant-time and the key is never kept.</summary>
    public static AdminAccess Check(HttpContext http, OrchestratorSettings settings)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header)) return AdminAccess.Missing;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AdminAccess.NotBearer;
        var key = header.AsSpan("Bearer ".Length).Trim();
        foreach (var admin in settings.Admin.Keys)
        {
            if (admin.Matches(key)) return AdminAccess.Granted;
        }
        return ClientKeyFilter.TryMatch(settings.Auth, key, out _) ? AdminAccess.ClientKey : AdminAccess.Wrong;
    }

    internal const string NotBearerMessage = "The Authorization header must have the form 'Authorization: Bearer <key>'; the 'Bearer ' prefix is missing.";

    internal static ValueTask<object?> Refuse(string message) =>
        ValueTask.FromResult<object?>(OpenAiErrors.Result(ApiError.InvalidApiKey(message)));
}
