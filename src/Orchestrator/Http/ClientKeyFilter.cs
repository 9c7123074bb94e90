using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// Checks the caller's key before anything else is read. The key travels as <c>Authorization: Bearer &lt;key&gt;</c>;
/// the most common mistake is a missing <c>Bearer </c>, so each refusal says which form is expected.
/// The key itself never appears in a message or a log.
/// </summary>
public sealed class ClientKeyFilter(ClientKeys keys) : IEndpointFilter
{
    private const string CallerItem = "orchestrator.caller";
    private const string KeyIdItem = "orchestrator.key-id";

    public static string Caller(HttpContext http) => http.Items[CallerItem] as string ?? "anonymous";

    /// <summary>The ledger key the request is billed to; null for the config's own keys.</summary>
    public static string? KeyId(HttpContext http) => http.Items[KeyIdItem] as string;

    /// <summary>Records which configured key the caller used; <see cref="Caller"/> reads it back.</summary>
    public static void SetCaller(HttpContext http, string caller) => http.Items[CallerItem] = caller;

    public static void SetCaller(HttpContext http, ClientIdentity identity)
    {
        http.Items[CallerItem] = identity.Caller;
        if (identity.KeyId is not null) http.Items[KeyIdItem] = identity.KeyId;
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!keys.Enabled) return await next(context);

        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
            return Refuse("You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer <key>'.");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Refuse("The Authorization header must have the form 'Authorization: Bearer <key>'; the 'Bearer ' prefix is missing.");

        var (identity, refusal) = await keys.IdentifyAsync(header["Bearer ".Length..].Trim(), http.RequestAborted);
        if (identity is not null)
        {
            SetCaller(http, identity);
            return await next(context);
        }
        return Refuse(refusal ?? "Incorrect API key provided. Send one of the configured client keys as 'Authorization: Bearer <key>'.");
    }

    /// <summary>Which configured key this is ("key-2"), compared in constant time; never the key itself.</summary>
    public static bool TryMatch(AuthSettings auth, ReadOnlySpan<char> key, out string caller)
    {
        for (var i = 0; i < auth.Keys.Length; i++)
        {
            if (!auth.Keys[i].Matches(key)) continue;
            caller = $"key-{i + 1}";
            return true;
        }
        caller = "";
        return false;
    }

    private static object Refuse(string message) => OpenAiErrors.Result(ApiError.InvalidApiKey(message));
}
