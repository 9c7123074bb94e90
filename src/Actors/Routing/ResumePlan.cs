using System.Collections.Immutable;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>One way to resume: a route, the strategy to run there, and whether to wait a backoff first (the route that broke).</summary>
public sealed record ResumeStep(int RouteIndex, ResumeStrategy Strategy, bool AfterBackoff);

/// <summary>
/// One resume cycle (made by <see cref="ResumePlanner.Plan"/>): the text the client has, the failure that cut it, and
/// the steps not yet tried.
/// </summary>
public sealed class ResumePlan(IReadOnlyList<RouteSettings> routes, UpstreamFailure cutBy, string text, IEnumerable<ResumeStep> steps)
{
    private readonly Queue<ResumeStep> _left = new(steps);

    /// <summary>What cut the stream: the client hears it if every step fails, not what the last step ran into.</summary>
    public UpstreamFailure CutBy { get; } = cutBy;

    /// <summary>The answer text the client had when the stream was cut.</summary>
    public string Text { get; } = text;

    public ImmutableArray<ResumeStep> Left => [.. _left];

    /// <summary>
    /// The next step worth running, or null when none is left. Passed over: prefill on a route that refused it (the
    /// set grows while the plan runs) and routes whose provider is unavailable.
    /// </summary>
    public ResumeStep? Next(IReadOnlySet<(string Provider, string Model)> noPrefill, IReadOnlyDictionary<string, ProviderSettings> providers)
    {
        while (_left.TryDequeue(out var step))
        {
            var route = routes[step.RouteIndex];
            if (step.Strategy == ResumeStrategy.Prefill && noPrefill.Contains((route.Provider, route.UpstreamModel))) continue;
            if (providers[route.Provider].UnavailableReason is not null) continue;
            return step;
        }
        return null;
    }
}
