using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Routing;

/// <summary>What <see cref="RetryPolicy"/> says to do after an attempt failed before any answer text reached the client.</summary>
public abstract record RetryDecision
{
    private RetryDecision()
    {
    }

    /// <summary>The same route again at once, on a fresh connection, outside the retry budget.</summary>
    public sealed record RetryNow : RetryDecision
    {
        public static readonly RetryNow Instance = new();
    }

    /// <summary>The same route again after <paramref name="Delay"/> (backoff with jitter, or the provider's Retry-After).</summary>
    public sealed record RetryAfter(TimeSpan Delay) : RetryDecision;

    /// <summary>This route is done: the next one in config order.</summary>
    public sealed record NextRoute : RetryDecision
    {
        public static readonly NextRoute Instance = new();
    }

    /// <summary>Too long for this route: the first large-context route after it.</summary>
    public sealed record LargeContextRoute(int RouteIndex) : RetryDecision;

    /// <summary>No route will do better: the caller gets <paramref name="Error"/>.</summary>
    public sealed record GiveUp(ApiError Error) : RetryDecision;
}
