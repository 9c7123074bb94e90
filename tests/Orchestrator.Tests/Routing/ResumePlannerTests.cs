using System.Collections.Immutable;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Routing;

public sealed class ResumePlannerTests
{
    private static readonly OrchestratorSettings Settings = TestSettings.From("""
        orchestrator {
          default-models = off   # these models only
          providers {
            a { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-a" }
            b { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-b" }
            keyless { kind = openai, base-url = "http://127.0.0.1:1/v1" }
          }
          models {
            m { routes = [
              { provider = a, prefill = on },
              { provider = keyless },
              { provider = b, resume-strategy = "continue" },
              { provider = b, model = "b-off", resume-strategy = off },
            ] }
          }
        }
        """);

    private static readonly IReadOnlyList<RouteSettings> Routes = Settings.Models.Single().Routes;
    private static readonly UpstreamFailure Cut = new(FailureKind.Transport, null, "transport error: reset");
    private static readonly HashSet<(string, string)> NoneRefused = [];

    private static TranscriptSnapshot Snapshot(int resumes = 0, bool toolCalls = false, bool choices = false) =>
        new("Hello", true, 3, toolCalls, choices, [.. Enumerable.Repeat("replay", resumes)]);

    [Fact]
    public void Refusal_EachReason_InOrder()
    {
        var on = new ResumeSettings(true, 2);
        Assert.Equal("resume is off for this model", ResumePlanner.Refusal(new ResumeSettings(false, 2), Snapshot(resumes: 5, toolCalls: true)));
        Assert.Equal("it was already resumed 2 times (max-resumes)", ResumePlanner.Refusal(on, Snapshot(resumes: 2, toolCalls: true)));
        Assert.Equal("a tool call was being streamed", ResumePlanner.Refusal(on, Snapshot(resumes: 1, toolCalls: true, choices: true)));
        Assert.Equal("it has several choices", ResumePlanner.Refusal(on, Snapshot(choices: true)));
        Assert.Null(ResumePlanner.Refusal(on, Snapshot(resumes: 1)));
        Assert.NotNull(ResumePlanner.Refusal(new ResumeSettings(true, 0), Snapshot()));
    }

    [Fact]
    public void Plan_OtherRoutesInConfigOrder_TheBrokenRouteLastAfterABackoff()
    {
        var plan = ResumePlanner.Plan(Routes, brokenRoute: 0, Cut, "Hello");
        Assert.Equal(
        [
            new ResumeStep(1, ResumeStrategy.Replay, false),
            new ResumeStep(2, ResumeStrategy.Continue, false),
            new ResumeStep(0, ResumeStrategy.Prefill, true),
            new ResumeStep(0, ResumeStrategy.Replay, true),
        ], plan.Left.ToArray());
        Assert.Equal(Cut, plan.CutBy);
        Assert.Equal("Hello", plan.Text);
    }

    [Fact]
    public void Plan_BrokenMidList_WrapsAround()
    {
        var plan = ResumePlanner.Plan(Routes, brokenRoute: 2, Cut, "Hello");
        Assert.Equal([0, 0, 1, 2], plan.Left.Select(s => s.RouteIndex));
        Assert.True(plan.Left[^1].AfterBackoff);
    }

    [Fact]
    public void Next_SkipsUnavailableProvidersAndRefusedPrefill_ThenRunsOut()
    {
        var plan = ResumePlanner.Plan(Routes, brokenRoute: 0, Cut, "Hello");
        HashSet<(string, string)> refused = [];
        Assert.Equal(new ResumeStep(2, ResumeStrategy.Continue, false), plan.Next(refused, Settings.Providers));   // keyless skipped
        refused.Add(("a", "m"));   // learnt while the plan runs
        Assert.Equal(new ResumeStep(0, ResumeStrategy.Replay, true), plan.Next(refused, Settings.Providers));
        Assert.Null(plan.Next(refused, Settings.Providers));
        Assert.Empty(plan.Left);
    }

    [Fact]
    public void Next_NothingRefused_PrefillRuns()
    {
        var plan = ResumePlanner.Plan(Routes, brokenRoute: 2, Cut, "Hello");
        Assert.Equal(new ResumeStep(0, ResumeStrategy.Prefill, false), plan.Next(NoneRefused, Settings.Providers));
    }
}
