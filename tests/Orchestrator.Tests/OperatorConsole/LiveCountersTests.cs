using Orchestrator.Actors.Telemetry;
using Orchestrator.OperatorConsole;

namespace Orchestrator.Tests.OperatorConsole;

/// <summary>
/// The console's aggregator over the process-wide meter: it counts its own host's models and providers only, keeps
/// one-second buckets, and listens only while watched. Time is a hand-moved clock.
/// </summary>
public sealed class LiveCountersTests
{
    private static readonly Orchestrator.Actors.Settings.OrchestratorSettings Settings = TestSettings.From("""
        orchestrator {
          providers { lc-mine-p { kind = simulator } }
          models { lc-mine { routes = [ { provider = lc-mine-p } ] } }
        }
        """);

    [Fact]
    public void LiveCounters_OwnAndOtherHostsMeasurements_CountsOnlyItsOwn()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-12-06T10:00:00.500Z"));
        using var counters = new LiveCounters(Settings, clock);
        using (counters.Watch())
        {
            OrchestratorMetrics.CountRequest("lc-mine", "lc-mine-p", "chat", 200);
            OrchestratorMetrics.CountRequest("lc-mine", "lc-mine-p", "chat", 502);
            OrchestratorMetrics.CountRequest("lc-theirs", "lc-theirs-p", "chat", 502);   // another host's model
            for (var ms = 1; ms <= 100; ms++) OrchestratorMetrics.RecordTimeToFirstToken("lc-mine", "lc-mine-p", TimeSpan.FromMilliseconds(ms));
            OrchestratorMetrics.RecordTimeToFirstToken("lc-theirs", "lc-theirs-p", TimeSpan.FromSeconds(30));
            OrchestratorMetrics.RecordOverhead("lc-mine", "lc-mine-p", "chat", TimeSpan.FromMilliseconds(0.25));
            clock.Now += TimeSpan.FromSeconds(1);   // that second is complete: it joins the series

            var snapshot = counters.Read();
            Assert.Equal(50, snapshot.TtftP50Ms!.Value, precision: 6);
            Assert.Equal(99, snapshot.TtftP99Ms!.Value, precision: 6);
            Assert.Equal(0.25, snapshot.OverheadP50Ms!.Value, precision: 6);
            Assert.Equal(50, snapshot.TtftP50Series[^1]!.Value, precision: 6);
            Assert.Equal(1, snapshot.ErrorsSeries[^1]);
            Assert.Equal(new KeyValuePair<string, int>("upstream error", 1), Assert.Single(snapshot.ErrorsByClass));
            var failure = Assert.Single(snapshot.Failures, f => f.Source == "request");
            Assert.Equal(("lc-mine", "lc-mine-p", 502), (failure.Model, failure.Provider, failure.Status));
            Assert.Equal(LiveCounters.WindowSeconds - 1, snapshot.RequestsSeries.Count);
        }

        // Nobody watching: nothing is collected.
        OrchestratorMetrics.CountRequest("lc-mine", "lc-mine-p", "chat", 503);
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(0, counters.Read().ErrorsSeries[^1]);
    }

    [Fact]
    public void LiveCounters_SecondsPass_OldBucketsLeaveTheWindow()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-12-06T10:00:00Z"));
        using var counters = new LiveCounters(Settings, clock);
        using var watching = counters.Watch();
        OrchestratorMetrics.RecordTimeToFirstToken("lc-mine", "lc-mine-p", TimeSpan.FromMilliseconds(40));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(40, counters.Read().TtftP50Ms!.Value, precision: 6);

        clock.Now += TimeSpan.FromSeconds(LiveCounters.WindowSeconds);
        var later = counters.Read();
        Assert.Null(later.TtftP50Ms);
        Assert.All(later.TtftP50Series, Assert.Null);
    }

    [Fact]
    public void LiveCounters_ProviderErrorSeenTwice_ListedOnce()
    {
        using var counters = new LiveCounters(Settings, new ManualClock(DateTimeOffset.UnixEpoch));
        var at = DateTimeOffset.Parse("2026-12-06T10:00:00Z");
        counters.NoteProviderError("lc-mine-p", "HTTP 503 (simulated)", at);
        counters.NoteProviderError("lc-mine-p", "HTTP 503 (simulated)", at);
        counters.NoteProviderError("lc-mine-p", "health check: GET /models answered HTTP 500", at.AddSeconds(1));
        var failures = counters.Read().Failures;
        Assert.Equal(2, failures.Count);
        Assert.Equal(("health check", 500), (failures[0].Class, failures[0].Status));
        Assert.Equal(("server error", 503), (failures[1].Class, failures[1].Status));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
