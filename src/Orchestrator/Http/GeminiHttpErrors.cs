using Orchestrator.Actors.Fronts.Gemini;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// How errors leave the Gemini front: Google's <c>{"error":{"code","message","status"}}</c> with the status, the
/// status name chosen by it (<see cref="GeminiFrontErrors.StatusOf"/>); never exception text or upstream bodies.
/// </summary>
public static class GeminiHttpErrors
{
    public static async Task WriteAsync(HttpResponse response, ApiError error)
    {
        if (response.HasStarted) return;
        var body = GeminiFrontErrors.ToJson(error);
        response.StatusCode = error.Status;
        foreach (var (name, value) in error.Headers) response.Headers[name] = value;
        response.ContentType = "application/json; charset=UTF-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body);
    }

    public static IResult Result(ApiError error) => new ErrorResult(error);

    private sealed class ErrorResult(ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext.Response, error);
    }
}
