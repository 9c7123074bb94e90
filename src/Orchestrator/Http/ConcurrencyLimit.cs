using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// <c>http.max-concurrent-requests</c>: one concurrency limiter over every request, with no queue, so one past the
/// limit is refused at once (503 + Retry-After) instead of waiting behind streams that may last minutes. A lease is
/// held until the request's pipeline returns: a stream counts until it ends, a realtime socket until it closes.
/// </summary>
public static class ConcurrencyLimit
{
    /// <summary>Seconds a refused client is told to wait; a slot frees as soon as any request ends.</summary>
    private const int RetryAfterSeconds = 1;

    public static IServiceCollection AddConcurrencyLimit(this IServiceCollection services, HttpSettings http) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetConcurrencyLimiter(
                "in-flight", _ => new ConcurrencyLimiterOptions { PermitLimit = http.MaxConcurrentRequests, QueueLimit = 0 }));
            limiter.OnRejected = (rejected, _) => RejectAsync(rejected.HttpContext, http.MaxConcurrentRequests);
        });

    private static ValueTask RejectAsync(HttpContext http, int limit)
    {
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        var error = new ApiError(503, $"The service is handling its limit of {limit} requests at once; retry after {RetryAfterSeconds} s.",
            "api_error", null, "overloaded");
        // Each front answers in its own contract's shape; Anthropic's SDKs retry on overloaded_error.
        return new ValueTask(http.Request.Path.StartsWithSegments("/v1/messages")
            ? MessagesHttpErrors.WriteAsync(http.Response, error)
            : OpenAiErrors.WriteAsync(http.Response, error));
    }
}
