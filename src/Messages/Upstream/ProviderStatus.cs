using System.Collections.Immutable;

namespace Orchestrator.Messages.Upstream;

/// <summary>Asks a provider actor (or the front, for all of them) how it is doing.</summary>
public sealed record GetProviderStatus
{
    public static readonly GetProviderStatus Instance = new();
}

/// <summary>
/// A provider's state as routing sees it. <paramref name="State"/> is <c>healthy</c>, <c>degraded</c> (recent
/// failures, circuit still closed), <c>open</c> (skipped until <paramref name="Until"/>), <c>half-open</c> (one trial
/// in flight), <c>parked</c> (a 429 asked us to wait until <paramref name="Until"/>) or <c>no key</c> (routing skips it:
/// its kind needs an api-key and none is configured).
/// </summary>
public sealed record ProviderStatus(
    string Name,
    string Kind,
    string State,
    DateTimeOffset? Until,
    int ConsecutiveFailures,
    HealthCheckResult? LastHealthCheck,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    int OpenConnections,
    int InFlightStreams,
    ProviderCounters Counters);

public sealed record HealthCheckResult(DateTimeOffset At, bool Ok, double LatencyMs, string? Error);

/// <summary>
/// Since start. <paramref name="SkippedEvents"/>: malformed stream events skipped, counted when their attempt settles.
/// <paramref name="PanicTrials"/>: attempts admitted while open or parked because every route of their model was.
/// </summary>
public sealed record ProviderCounters(long Requests, long Failures, long Retries, long Fallbacks, long Rotations, long Resumes, long SkippedEvents, long PanicTrials);

/// <summary>The answer to <see cref="GetProviderStatus"/> sent to the front: every provider, in name order.</summary>
public sealed record ProviderStatusReport(ImmutableArray<ProviderStatus> Providers);
