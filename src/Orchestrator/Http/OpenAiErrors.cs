using System.Text.Json;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>The one way errors leave the edge: <c>{"error":{...}}</c>, never exception text or upstream bodies.</summary>
public static class OpenAiErrors
{
    public static Task WriteAsync(HttpResponse response, ApiError error)
    {
        if (response.HasStarted) return Task.CompletedTask;
        response.StatusCode = error.Status;
        foreach (var (name, value) in error.Headers) response.Headers[name] = value;
        response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(response.Body, Envelope(error), WireJson.Default.ErrorEnvelope);
    }

    public static ErrorEnvelope Envelope(ApiError error) =>
        new(new ErrorBody(error.Message, error.Type, error.Param, error.Code));

    public static IResult Result(ApiError error) => new ErrorResult(error);

    private sealed class ErrorResult(ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext.Response, error);
    }
}
