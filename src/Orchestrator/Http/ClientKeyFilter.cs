using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// Checks the caller's key before anything else is read. The key travels as <c>Authorization: Bearer &lt;key&gt;</c>;
/// the most common mistake is a missing <c>Bearer </c>, so each refusal says which form is expected.
/// The key itself never appears in a message or a log.
/// </summary>
public sealed class ClientKeyFilter(OrchestratorSettings settings) : IEndpointFilter
{
    private const string CallerItem = "orchestrator.caller";

    public static string Caller(HttpContext http) => http.Items[CallerItem] as string ?? "anonymous";

    /// <summary>Records which configured key the caller used; <see cref="Caller"/> reads it back.</summary>
    public static void SetCaller(HttpContext http, string caller) => http.Items[CallerItem] = caller;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var auth = settings.Auth;
        if (!auth.Enabled) return next(context);

        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
            return Refuse("You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer <key>'.");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Refuse("The Authorization header must have the form 'Authorization: Bearer <key>'; the 'Bearer ' prefix is missing.");

        if (TryMatch(auth, header.AsSpan("Bearer ".Length).Trim(), out var caller))
        {
            SetCaller(http, caller);
            return next(context);
        }
        return Refuse("Incorrect API key provided. Send one of the configured client keys as 'Authorization: Bearer <key>'.");
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

    private static ValueTask<object?> Refuse(string message) =>
        ValueTask.FromResult<object?>(OpenAiErrors.Result(ApiError.InvalidApiKey(message)));
}
