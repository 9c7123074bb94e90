using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

public static class UnknownEndpoints
{
    /// <summary>Any other path gets OpenAI's "unknown URL" error instead of an empty 404.</summary>
    public static IEndpointRouteBuilder MapUnknownEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapFallback(Result);
        return endpoints;
    }

    /// <summary>OpenAI's 404 for a path it does not serve; also what a path that must look absent answers (the admin API when it is off).</summary>
    public static IResult Result(HttpContext http) => OpenAiErrors.Result(new ApiError(404,
        $"Unknown request URL: {http.Request.Method} {http.Request.Path}.", "invalid_request_error", null, "unknown_url"));
}
