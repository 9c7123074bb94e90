using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Orchestrator.Actors.Telemetry;

namespace Orchestrator.Bench.Micro;

/// <summary>
/// What metrics cost one streamed request (issue 12): every instrument update the relay makes for a 50-chunk stream
/// through the chat front, in the order it makes them: the open-streams gauge up, a clock read per upstream block
/// and per client write (the overhead measurement; one block per event, the most there can be), time to first
/// token, the gauge down, token usage, request duration, the requests counter and the overhead histogram, and the
/// provider's circuit gauge and skipped-events counter as each attempt settles. <c>Unobserved</c> is the relay
/// with <c>telemetry.metrics = off</c> (no listener: each update is a check and a return); <c>Exported</c> has the
/// OpenTelemetry SDK's MeterProvider listening as the host's does (its aggregation is the same whichever exporter
/// reads it; the Prometheus exporter only works when scraped). The difference, set beside a stream's CPU in the
/// load benchmark (~0.3 ms), is what metrics add to the hot path.
/// </summary>
[MemoryDiagnoser]
public class RequestMetricsBenchmarks
{
    private const int Blocks = 53;   // role chunk, 50 content chunks, finish chunk, [DONE]
    private const string Model = "bench";
    private const string Provider = "mock";
    private readonly List<Metric> _exported = [];
    private MeterProvider? _provider;

    [GlobalSetup(Target = nameof(Exported))]
    public void Listen() =>
        _provider = Sdk.CreateMeterProviderBuilder().AddMeter(OrchestratorMetrics.MeterName).AddInMemoryExporter(_exported).Build();

    [GlobalCleanup(Target = nameof(Exported))]
    public void StopListening() => _provider?.Dispose();

    [Benchmark(Baseline = true)]
    public long Unobserved() => OneStream();

    [Benchmark]
    public long Exported() => OneStream();

    private static long OneStream()
    {
        var receivedAt = Stopwatch.GetTimestamp();
        OrchestratorMetrics.StreamOpened("chat");
        long relayTicks = 0;
        for (var i = 0; i < Blocks; i++)
        {
            // The answer stage stamps each upstream read; the response sink adds read-to-write to the stream's clock.
            var readAt = OrchestratorMetrics.OverheadEnabled ? Stopwatch.GetTimestamp() : 0;
            if (readAt != 0) relayTicks += Stopwatch.GetTimestamp() - readAt;
            if (i == 1) OrchestratorMetrics.RecordTimeToFirstToken(Model, Provider, Stopwatch.GetElapsedTime(receivedAt));
        }
        OrchestratorMetrics.SetCircuitState(Provider, CircuitStateValue.Closed);
        OrchestratorMetrics.CountSkippedEvents(Provider, 0);
        OrchestratorMetrics.StreamClosed("chat");
        OrchestratorMetrics.RecordTokens(Model, Provider, 12, 50);
        OrchestratorMetrics.RecordRequestDuration(Model, Provider, Stopwatch.GetElapsedTime(receivedAt), null);
        OrchestratorMetrics.CountRequest(Model, Provider, "chat", 200);
        OrchestratorMetrics.RecordOverhead(Model, Provider, "chat", Stopwatch.GetElapsedTime(0, relayTicks));
        return relayTicks;
    }
}
