using System.Globalization;
using System.Text;
using Orchestrator.Actors.Embedding;
using Orchestrator.Bench.LoadGen;

namespace Orchestrator.Bench.Embedded;

/// <summary>
/// The streaming scenarios of the suite (2: closed loop, unpaced; open loop: paced), each run in this process
/// against two targets in turn: <c>direct</c>, the load generator's HTTP client and checker calling the mock, and
/// <c>embedded engine</c>, <see cref="OrchestratorClient.StreamAsync"/> (which calls the mock through the engine).
/// Both are this process, so its CPU over the window, per completed stream, is the caller's whole cost either way.
/// </summary>
public sealed class EmbeddedBench(Profile profile, Uri mock, OrchestratorClient engine, TextWriter log) : IDisposable
{
    public const string Direct = "direct (HttpClient → mock)";
    public const string Engine = "embedded engine";

    private readonly Target _direct = new(Direct, mock, null, Environment.ProcessId);
    private readonly Target _engine = new(Engine, mock, null, Environment.ProcessId);
    private readonly EmbeddedProbe _probe = new(engine);
    // One client for the direct runs (the load generator makes one per run; a pool of warm connections either way).
    private readonly HttpClient _client = ChatProbe.CreateClient();

    public List<Row> Rows { get; } = [];

    public async Task RunAsync()
    {
        await WaitForMockAsync();
        // Warm-up, not reported: JIT, connection pools, the engine's first routes.
        await RunnerFor(_direct, Profile.Unpaced, null).ClosedAsync(8, profile.Warmup * 2, TimeSpan.Zero, profile.Grace);
        await RunnerFor(_engine, Profile.Unpaced, null).ClosedAsync(8, profile.Warmup * 2, TimeSpan.Zero, profile.Grace);

        await InterleavedAsync($"stream {Profile.Unpaced.Chunks} chunks unpaced, c={profile.UnpacedConcurrency}", Profile.Unpaced,
            runner => runner.ClosedAsync(profile.UnpacedConcurrency, profile.Warmup, profile.Measure, profile.Grace));
        await InterleavedAsync($"open loop: {profile.OpenRate:0} new streams/s ({profile.OpenShape.Chunks} chunks paced {profile.OpenShape.PaceMs} ms)",
            profile.OpenShape,
            runner => runner.OpenAsync(profile.OpenRate, profile.Warmup, profile.OpenMeasure, profile.Grace));
    }

    private async Task InterleavedAsync(string scenario, RequestShape shape, Func<LoadRunner, Task<RunResult>> run)
    {
        var rows = new[] { new Row(scenario, _direct), new Row(scenario, _engine) };
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var row in rows)
            {
                var window = new ProcessWindow(Environment.ProcessId);
                var result = await run(RunnerFor(row.Target, shape, window));
                row.Add(result, window);
                var measured = result.Measured.ToList();
                log.WriteLine($"  {scenario} | {row.Target.Name} | round {round}/{profile.Rounds}: {measured.Count} streams, {measured.Count(o => !o.Ok)} errors");
            }
        }

        Rows.AddRange(rows);
    }

    private LoadRunner RunnerFor(Target target, RequestShape shape, ProcessWindow? window) => target == _engine
        ? new LoadRunner(_probe.For(shape)) { Window = window }
        : new LoadRunner(new ChatProbe(_client), target, shape) { Window = window };

    public void Dispose() => _client.Dispose();

    private async Task WaitForMockAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await _client.GetAsync(_direct.ModelsUrl);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline) throw new HarnessException($"the mock at {mock} did not answer GET /v1/models within 60 s");
            await Task.Delay(200);
        }
    }

    public static string Header(Profile profile) => $"""
        ## Embedded engine (in-process, no HTTP)

        `bench/Embedded`, on CPU {ProcStats.CpusAllowed(Environment.ProcessId)} (server GC, like the servers): the engine hosted with
        `services.AddOrchestrator(...)` and `orchestrator-bench.conf` (model `bench` → the mock over HTTP/1.1), called through
        `OrchestratorClient.StreamAsync`; `direct` is the same process calling the mock with the load generator's HTTP client and
        checker. Interleaved, {profile.Rounds} round(s), {profile.Warmup.TotalSeconds:0.#} s warm-up + {profile.Measure.TotalSeconds:0.#} s measured
        (open loop: {profile.OpenMeasure.TotalSeconds:0.#} s); every stream's content checked token by token. CPU ms/stream: this whole
        process (caller + engine, or caller + HTTP client) over the window / streams completed in it; "+" columns: engine minus direct.
        """;

    public static string Markdown(IReadOnlyList<Row> rows)
    {
        var md = new StringBuilder();
        md.AppendLine("| Scenario | Target | Streams | p50 ms | p99 ms | TTFT p50 | TTFT p99 | +TTFT p50 | +TTFT p99 | streams/s | Errors | Peak RSS MB | CPU ms/stream | +CPU ms/stream |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var scenario in rows.GroupBy(r => r.Scenario))
        {
            var direct = scenario.First(r => r.Target.Name == Direct);
            foreach (var row in scenario)
            {
                var isDirect = row == direct;
                md.AppendLine(Cells(
                    row.Scenario, row.Target.Name, I(row.Requests), F(row.Latency?.P50), F(row.Latency?.P99),
                    F(row.Ttft?.P50), F(row.Ttft?.P99),
                    isDirect ? "" : Added(row.Ttft?.P50, direct.Ttft?.P50), isDirect ? "" : Added(row.Ttft?.P99, direct.Ttft?.P99),
                    row.Throughput.ToString("0", CultureInfo.InvariantCulture),
                    row.Errors == 0 ? "0" : $"{I(row.Errors)} ({string.Join(", ", row.ErrorKinds)})",
                    (row.PeakRssKb / 1024.0).ToString("0", CultureInfo.InvariantCulture),
                    F(row.CpuMsPerRequest, "0.000"), isDirect ? "" : Added(row.CpuMsPerRequest, direct.CpuMsPerRequest, "+0.000;-0.000")));
            }
        }

        return md.ToString();
    }

    private static string Cells(params string[] cells) => "| " + string.Join(" | ", cells) + " |";

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double? value, string format = "0.00") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "—";

    private static string Added(double? value, double? baseline, string format = "+0.00;-0.00") =>
        value is { } v && baseline is { } b ? (v - b).ToString(format, CultureInfo.InvariantCulture) : "—";
}
