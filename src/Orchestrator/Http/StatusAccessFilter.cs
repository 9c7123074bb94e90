using Orchestrator.Actors.Settings;

namespace Orchestrator.Http;

/// <summary>
/// <c>GET /v1/providers</c> shows the service's providers, their health and errors: an admin key is needed
/// (<see cref="AdminKeyFilter"/>), unless <c>orchestrator.http.public-status = on</c> makes it a public status page.
/// A client key is refused with a message saying so.
/// </summary>
public sealed class StatusAccessFilter(OrchestratorSettings settings) : IEndpointFilter
{
    private const string Needs = "GET /v1/providers needs an admin key (orchestrator.admin.keys) as 'Authorization: Bearer <key>'";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (settings.Http.PublicStatus) return next(context);
        return AdminKeyFilter.Check(context.HttpContext, settings) switch
        {
            AdminAccess.Granted => next(context),
            AdminAccess.Missing => AdminKeyFilter.Refuse($"You didn't provide an API key. {Needs}."),
            AdminAccess.NotBearer => AdminKeyFilter.Refuse(AdminKeyFilter.NotBearerMessage),
            AdminAccess.ClientKey => AdminKeyFilter.Refuse($"A client key cannot read provider status: {Needs} (or the operator sets orchestrator.http.public-status = on)."),
            _ => AdminKeyFilter.Refuse($"Incorrect API key provided. {Needs}."),
        };
    }
}
