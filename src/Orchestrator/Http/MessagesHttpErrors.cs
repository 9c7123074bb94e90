using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// How errors leave the Anthropic front: <c>{"type":"error","error":{"type","message"}}</c> with the status, the
/// type chosen by status (<see cref="MessagesErrors.TypeOf"/>); never exception text or upstream bodies.
/// </summary>
public static class MessagesHttpErrors
{
    public static async Task WriteAsync(HttpResponse response, ApiError error)
    {
        if (response.HasStarted) return;
        var body = MessagesErrors.ToJson(error);
        response.StatusCode = error.Status;
        foreach (var (name, value) in error.Headers) response.Headers[name] = value;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body);
    }

    public static IResult Result(ApiError error) => new ErrorResult(error);

    private sealed class ErrorResult(ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext.Response, error);
    }
}
