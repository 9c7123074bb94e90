using System.Diagnostics;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Telemetry;

/// <summary>
/// The engine's spans (activity source <c>Orchestrator</c>): one per request (<see cref="SessionTelemetry"/>) and
/// one per upstream attempt under it, named and tagged after the OpenTelemetry GenAI conventions. Actors share
/// their threads, so a span is never left as <see cref="Activity.Current"/>: starting and stopping one here puts
/// back whatever was current before.
/// </summary>
public static class OrchestratorTracing
{
    public const string SourceName = "Orchestrator";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts a span under <paramref name="parent"/> without making it current (null when nobody records it).</summary>
    public static Activity? Start(string name, ActivityKind kind, ActivityContext parent)
    {
        if (!Source.HasListeners()) return null;
        var previous = Activity.Current;
        var activity = Source.StartActivity(name, kind, parent);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>Ends <paramref name="activity"/>; what was current stays current.</summary>
    public static void Stop(Activity? activity)
    {
        if (activity is null) return;
        var previous = Activity.Current;
        activity.Stop();
        Activity.Current = ReferenceEquals(previous, activity) ? null : previous;
    }

    /// <summary>The GenAI conventions' <c>error.type</c>, the failure class's name; null for a success.</summary>
    public static void SetError(Activity? activity, string errorType, string? description = null)
    {
        if (activity is null) return;
        activity.SetTag("error.type", errorType);
        activity.SetStatus(ActivityStatusCode.Error, description);
    }

    /// <summary>The front a request came through, as the <c>front</c> label and span tag say it.</summary>
    public static string FrontOf(ChatRequest request) => request.Native?.Dialect switch
    {
        Dialect.AnthropicMessages => "messages",
        Dialect.OpenAiResponses => "responses",
        Dialect.Gemini => "gemini",
        _ => "chat",
    };
}
