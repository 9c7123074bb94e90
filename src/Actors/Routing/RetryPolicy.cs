using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>Where a request stands on its current route when an attempt fails.</summary>
/// <param name="RouteIndex">The route the attempt ran on.</param>
/// <param name="Retries">Backoff retries already made on this route.</param>
/// <param name="FreshRetryUsed">The request's one immediate retry on a fresh connection is spent (over every route).</param>
/// <param name="TimeLeft">Until total-timeout.</param>
public sealed record RetryContext(int RouteIndex, int Retries, bool FreshRetryUsed, TimeSpan TimeLeft)
{
    /// <summary>The attempt was a panic trial: every route of the model had refused as open or parked.</summary>
    public bool Panic { get; init; }
}

/// <summary>
/// Retry and fallback by failure class, for a failure before any answer text reached the client. Pure: the
/// session applies the decision (timers, routing notes, the next attempt).
/// </summary>
public static class RetryPolicy
{
    public const string ContextLengthExceeded = "context_length_exceeded";

    public static RetryDecision Decide(UpstreamFailure failure, UpstreamSettings upstream, IReadOnlyList<RouteSettings> routes, RetryContext context,
        Random random)
    {
        if (failure.IsCallerFault)
        {
            if (failure.Code == ContextLengthExceeded && LargeContextRoute(routes, context.RouteIndex) is { } larger)
                return new RetryDecision.LargeContextRoute(larger);
            // Every provider would refuse this request: say why, in the provider's words.
            return new RetryDecision.GiveUp(new ApiError(failure.Status ?? 400, failure.Message, "invalid_request_error", failure.Param, failure.Code));
        }
        // Most often a pooled socket the peer had closed: once, at once, on a fresh connection, free of the budget.
        if (failure.Kind == FailureKind.Transport && !context.FreshRetryUsed) return RetryDecision.RetryNow.Instance;
        // A panic trial ran on a provider its breaker already held bad: once per route, no backoff spent on it.
        if (context.Panic) return RetryDecision.NextRoute.Instance;
        // A parked provider (a 429's Retry-After) is worth waiting for like the 429 itself, if the wait is short.
        var worthRetrying = failure.IsRetryable || failure is { Kind: FailureKind.Unavailable, RetryAfter: not null };
        if (worthRetrying && context.Retries < upstream.MaxRetries && Delay(failure, upstream, context.Retries, context.TimeLeft, random) is { } delay)
            return new RetryDecision.RetryAfter(delay);
        return RetryDecision.NextRoute.Instance;
    }

    /// <summary>Backoff with jitter, or the provider's Retry-After when longer; null when waiting is not worth it.</summary>
    public static TimeSpan? Delay(UpstreamFailure failure, UpstreamSettings upstream, int retry, TimeSpan timeLeft, Random random)
    {
        var delay = RetryDelays.Next(retry, upstream.RetryBaseDelay, upstream.RetryMaxDelay, random);
        if (failure.RetryAfter is { } after)
        {
            if (after > upstream.RetryMaxDelay) return null;   // the provider wants a long pause: another route answers sooner
            if (after > delay) delay = after;
        }
        return delay < timeLeft ? delay : null;
    }

    private static int? LargeContextRoute(IReadOnlyList<RouteSettings> routes, int after)
    {
        for (var i = after + 1; i < routes.Count; i++)
            if (routes[i].LargeContext) return i;
        return null;
    }
}
