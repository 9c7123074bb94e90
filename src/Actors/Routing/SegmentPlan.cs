using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// How one attempt's chunks join the client stream. <paramref name="Continuation"/>: the client already has
/// chunks, so role-only chunks are dropped and ids rewritten to the first attempt's. <paramref name="Strategy"/>:
/// the resume strategy this attempt runs (null for the first attempt or a plain retry).
/// </summary>
public sealed record SegmentPlan(bool Continuation, ResumeStrategy? Strategy, string? ReplayText)
{
    public static readonly SegmentPlan First = new(false, null, null);
}

/// <summary>What every segment of one request shares: its time limits and whether a usage chunk will follow the finish.</summary>
public sealed record SegmentLimits(TimeSpan FirstTokenTimeout, TimeSpan IdleTimeout, bool IncludeUsage, bool SingleChoice)
{
    /// <summary>The largest SSE line or event the upstream may send (its provider's <c>max-event-bytes</c>).</summary>
    public int MaxEventBytes { get; init; } = 1 << 20;

    /// <summary>The model the client asked for, and its input estimated: the usage chunk the relay writes when the upstream sent none.</summary>
    public string Model { get; init; } = "";
    public InputEstimate? Input { get; init; }

    /// <summary>
    /// The relay asked the upstream for usage that the client did not (to bill the request): usage chunks are read,
    /// not written.
    /// </summary>
    public bool HideUsage { get; init; }
}
