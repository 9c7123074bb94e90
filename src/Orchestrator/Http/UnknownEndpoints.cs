using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

public static class UnknownEndpoints
{
    /// <summary>Any other path gets OpenAI's "unknown URL" error instead of an empty 404.</summary>
    public static IEndpointRouteBuilder MapUnknownEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapFallback((HttpContext http) => OpenAiErrors.Result(new ApiError(404,
            $"Unknown request URL: {http.Request.Method} {http.Request.Path}.", "invalid_request_error", null, "unknown_url")));
        return endpoints;
    }
}
