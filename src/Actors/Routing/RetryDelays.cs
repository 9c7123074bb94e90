namespace Orchestrator.Actors.Routing;

/// <summary>
/// Exponential backoff with full jitter: a random delay up to base x 2^n (capped), so retries from many requests
/// never move in step; never less than a tenth of the base, so no retry is immediate.
/// </summary>
public static class RetryDelays
{
    public static TimeSpan Next(int retry, TimeSpan baseDelay, TimeSpan maxDelay, Random random)
    {
        var ceiling = Math.Min(maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, Math.Min(retry, 30)));
        return TimeSpan.FromTicks(Math.Max(baseDelay.Ticks / 10, (long)(random.NextDouble() * ceiling)));
    }
}
