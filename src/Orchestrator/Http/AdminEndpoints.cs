namespace Orchestrator.Http;

public static class AdminEndpoints
{
    /// <summary>
    /// The <c>/admin</c> route group, behind <see cref="AdminKeyFilter"/>: admin endpoints are mapped on what this
    /// returns (call it once). Any other path under <c>/admin</c>, with any method, is answered inside the group, so it
    /// too gets 401 without an admin key and OpenAI's unknown-URL 404 with one.
    /// </summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin");
        admin.AddEndpointFilter<AdminKeyFilter>();
        admin.Map("{**path}", UnknownEndpoints.Result);
        return admin;
    }
}
