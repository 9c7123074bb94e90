using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// Whether a stream cut after answer text reached the client may be resumed, and in what order. Pure: the session
/// runs the steps.
/// </summary>
public static class ResumePlanner
{
    /// <summary>Why this cut stream is not resumed, or null when it may be.</summary>
    public static string? Refusal(ResumeSettings resume, TranscriptSnapshot snapshot) =>
        !resume.Enabled ? "resume is off for this model"
        : snapshot.Resumes.Length >= resume.MaxResumes ? $"it was already resumed {snapshot.Resumes.Length} times (max-resumes)"
        : snapshot.HasToolCalls ? "a tool call was being streamed"
        : snapshot.MultipleChoices ? "it has several choices"
        : null;

    /// <summary>
    /// Every other route first, in config order from the one after <paramref name="brokenRoute"/>, then the route that
    /// broke (after a backoff), each with its strategies in the order it lists them.
    /// </summary>
    public static ResumePlan Plan(IReadOnlyList<RouteSettings> routes, int brokenRoute, UpstreamFailure cutBy, string text)
    {
        var steps = new List<ResumeStep>();
        for (var offset = 1; offset <= routes.Count; offset++)
        {
            var index = (brokenRoute + offset) % routes.Count;
            foreach (var strategy in routes[index].ResumeStrategies) steps.Add(new ResumeStep(index, strategy, AfterBackoff: index == brokenRoute));
        }
        return new ResumePlan(routes, cutBy, text, steps);
    }
}
