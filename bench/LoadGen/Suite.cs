using System.Diagnostics;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// The scenarios of issue 5, each run against every target in turn (direct, YARP, Orchestrator) and, where the
/// profile says so, in several rounds, so a noisy moment hits all three alike. <paramref name="heldOverH2"/>, when
/// given, is Orchestrator once more for the held streams only, asked for <see cref="H2Model"/> (its upstream over h2c).
/// </summary>
/// <paramref name="metricsOff"/>, when given, is a second Orchestrator with <c>telemetry.metrics = off</c>: scenario M
/// runs the unpaced stream on both, interleaved, so the table shows what metrics cost the hot path.
public sealed class Suite(Profile profile, IReadOnlyList<Target> targets, TextWriter log, Target? heldOverH2 = null, Target? metricsOff = null)
{
    /// <summary>The model <c>orchestrator-bench.conf</c> routes to the mock's h2c port (provider <c>mock-h2</c>).</summary>
    public const string H2Model = "bench-h2";

    /// <summary>The model <c>orchestrator-bench.conf</c> routes to the mock's <c>/v1/messages</c> (provider kind <c>anthropic</c>).</summary>
    public const string AnthropicModel = "bench-anthropic";

    public const string PassedThrough = "orchestrator, passed through";
    public const string AnthropicUpstream = "orchestrator, anthropic upstream -> chat";
    public const string MessagesFront = "orchestrator, openai upstream -> /v1/messages";
    public const string GeminiFront = "orchestrator, openai upstream -> Gemini front";
    public const string MetricsOn = "orchestrator, metrics on";
    public const string MetricsOff = "orchestrator, metrics off";

    public List<Row> Rows { get; } = [];

    public List<HeldRow> Held { get; } = [];

    public List<PairedSummary> Paired { get; } = [];

    /// <summary>An admin key of Orchestrator's: the ledger scenario makes a billed key with it and compares it with the config's key.</summary>
    public string? LedgerAdminKey { get; init; }

    public const string ConfigKey = "orchestrator, config key (unbilled)";
    public const string LedgerKey = "orchestrator, ledger key (billed)";

    /// <summary>The scenarios <c>--only</c> can name (the warm-up always runs).</summary>
    public static readonly string[] ScenarioIds = ["1", "2", "3", "open", "4", "T", "M", "L"];

    /// <summary>The scenarios to run (ids of <see cref="ScenarioIds"/>); null: all of them.</summary>
    public IReadOnlySet<string>? Only { get; init; }

    /// <summary><c>--only T</c>, <c>--only 2,T</c>: unknown ids are refused (a typo would run nothing).</summary>
    public static IReadOnlySet<string> ParseOnly(string list)
    {
        var ids = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(id => ScenarioIds.FirstOrDefault(known => known.Equals(id, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"--only: unknown scenario '{id}' (known: {string.Join(", ", ScenarioIds)})"))
            .ToHashSet(StringComparer.Ordinal);
        return ids.Count > 0 ? ids : throw new ArgumentException("--only: no scenario named");
    }

    private bool Runs(string id) => Only is null || Only.Contains(id);

    public async Task RunAsync()
    {
        foreach (var target in targets) await WaitReadyAsync(target);
        foreach (var target in targets) await WarmUpAsync(target);

        foreach (var concurrency in Runs("1") ? profile.CompletionConcurrency : [])
        {
            await InterleavedAsync($"1. non-stream, c={concurrency}", RequestShape.Completion, profile.Rounds,
                runner => runner.ClosedAsync(concurrency, profile.Warmup, profile.Measure, profile.Grace));
        }

        if (Runs("2"))
            await InterleavedAsync($"2. stream {Profile.Unpaced.Chunks} chunks unpaced, c={profile.UnpacedConcurrency}", Profile.Unpaced, profile.Rounds,
                runner => runner.ClosedAsync(profile.UnpacedConcurrency, profile.Warmup, profile.Measure, profile.Grace));

        if (Runs("3"))
            await InterleavedAsync($"3. stream {profile.PacedShape.Chunks} chunks paced {profile.PacedShape.PaceMs} ms, c={profile.PacedConcurrency}",
                profile.PacedShape, rounds: 1,
                runner => runner.ClosedAsync(profile.PacedConcurrency, profile.PacedWarmup, profile.PacedMeasure, profile.Grace));

        if (Runs("open"))
            await InterleavedAsync($"open loop: {profile.OpenRate:0} new streams/s ({profile.OpenShape.Chunks} chunks paced {profile.OpenShape.PaceMs} ms)",
                profile.OpenShape, profile.Rounds,
                runner => runner.OpenAsync(profile.OpenRate, profile.Warmup, profile.OpenMeasure, profile.Grace));

        // Translation: the same stream passed through, decoded from an Anthropic upstream, and encoded for an
        // Anthropic client and for a Gemini client; Orchestrator only (the other targets cannot translate).
        if (Runs("T") && targets.FirstOrDefault(t => t.Name == Report.Orchestrator) is { } orchestrator)
        {
            await InterleavedAsync($"T. translation: stream {Profile.Unpaced.Chunks} chunks unpaced, c={profile.UnpacedConcurrency}",
                [
                    (orchestrator with { Name = PassedThrough }, Profile.Unpaced),
                    (orchestrator with { Name = AnthropicUpstream }, Profile.Unpaced.ForModel(AnthropicModel)),
                    (orchestrator with { Name = MessagesFront }, Profile.Unpaced.ThroughMessagesFront()),
                    (orchestrator with { Name = GeminiFront }, Profile.Unpaced.ThroughGeminiFront()),
                ],
                profile.Rounds,
                runner => runner.ClosedAsync(profile.UnpacedConcurrency, profile.Warmup, profile.Measure, profile.Grace));
        }

        // Metrics: the same stream through the relay with its meter listened to (as run, /metrics served) and with
        // no listener at all, interleaved. The second relay has run nothing yet: it first streams as long as the
        // first one did in scenarios 1 and 2 (its JIT settles), and both get twice the rounds of the others, since
        // the difference sought is smaller than one round's spread.
        if (Runs("M") && metricsOff is not null && targets.FirstOrDefault(t => t.Name == Report.Orchestrator) is { } measured)
        {
            await WaitReadyAsync(metricsOff);
            await WarmUpAsync(metricsOff);
            using (var client = ChatProbe.CreateClient())
                await new LoadRunner(new ChatProbe(client), metricsOff, Profile.Unpaced)
                    .ClosedAsync(profile.UnpacedConcurrency, (profile.Warmup + profile.Measure) * profile.Rounds * 4, TimeSpan.Zero, profile.Grace);
            await InterleavedAsync($"M. metrics: stream {Profile.Unpaced.Chunks} chunks unpaced, c={profile.UnpacedConcurrency}",
                [(measured with { Name = MetricsOn }, Profile.Unpaced), (metricsOff with { Name = MetricsOff }, Profile.Unpaced)],
                profile.Rounds * 2,
                runner => runner.ClosedAsync(profile.UnpacedConcurrency, profile.Warmup, profile.Measure, profile.Grace));
        }

        // The ledger: the same requests with the config's key (no ledger) and a billed ledger key (admission: one
        // message to the key's actor; settlement and the usage row after the answer), interleaved, twice the rounds.
        if (Runs("L") && LedgerAdminKey is not null && targets.FirstOrDefault(t => t.Name == Report.Orchestrator) is { } relay)
        {
            var billed = relay with { Name = LedgerKey, ApiKey = await LedgerKeys.CreateAsync(relay, LedgerAdminKey) };
            var unbilled = relay with { Name = ConfigKey };
            await InterleavedAsync("L. ledger: non-stream, c=1", [(unbilled, RequestShape.Completion), (billed, RequestShape.Completion)],
                profile.Rounds * 2, runner => runner.ClosedAsync(1, profile.Warmup, profile.Measure, profile.Grace));
            // The added latency itself, paired request by request (the rows above scatter by more than it).
            await PairedAsync("L. ledger: non-stream, c=1, alternating", unbilled, billed, RequestShape.Completion, profile.Rounds * 2);
            await InterleavedAsync($"L. ledger: stream {Profile.Unpaced.Chunks} chunks unpaced, c={profile.UnpacedConcurrency}",
                [(unbilled, Profile.Unpaced), (billed, Profile.Unpaced)],
                profile.Rounds * 2, runner => runner.ClosedAsync(profile.UnpacedConcurrency, profile.Warmup, profile.Measure, profile.Grace));
        }

        if (!Runs("4")) return;
        foreach (var target in targets) Held.Add(await HeldAsync(target, profile.HeldShape, profile.HeldStreams));
        if (heldOverH2 is not null) Held.Add(await HeldAsync(heldOverH2, profile.HeldShape.ForModel(H2Model), profile.HeldStreamsH2));
    }

    private Task InterleavedAsync(string scenario, RequestShape shape, int rounds, Func<LoadRunner, Task<RunResult>> run) =>
        InterleavedAsync(scenario, targets.Select(t => (t, shape)).ToList(), rounds, run);

    private async Task InterleavedAsync(string scenario, IReadOnlyList<(Target Target, RequestShape Shape)> runs, int rounds, Func<LoadRunner, Task<RunResult>> run)
    {
        var rows = runs.Select(r => new Row(scenario, r.Target)).ToList();
        for (var round = 1; round <= rounds; round++)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                EnsureAlive();
                using var client = ChatProbe.CreateClient();
                var window = new ProcessWindow(row.Target.Pid);
                var result = await run(new LoadRunner(new ChatProbe(client), row.Target, runs[i].Shape) { Window = window });
                row.Add(result, window);
                var measured = result.Measured.ToList();
                log.WriteLine($"  {scenario} | {row.Target.Name} | round {round}/{rounds}: {measured.Count} requests, {measured.Count(o => !o.Ok)} errors");
            }
        }

        Rows.AddRange(rows);
    }

    private async Task PairedAsync(string scenario, Target first, Target second, RequestShape shape, int rounds)
    {
        var summary = new PairedSummary(scenario, first.Name, second.Name);
        for (var round = 1; round <= rounds; round++)
        {
            EnsureAlive();
            using var client = ChatProbe.CreateClient();
            var result = await new Paired(new ChatProbe(client), first, second, shape).RoundAsync(profile.Warmup, profile.Measure, profile.Grace);
            summary.Add(result);
            log.WriteLine($"  {scenario} | round {round}/{rounds}: {result.First.Measured.Count()} + {result.Second.Measured.Count()} requests, " +
                $"{result.First.Measured.Count(o => !o.Ok) + result.Second.Measured.Count(o => !o.Ok)} errors");
        }

        Paired.Add(summary);
    }

    // Held streams: a fixed number of streams started at a steady rate over the ramp, each open for its whole paced
    // answer, so all are open at once near the end of the ramp. RSS is sampled while they are held.
    private async Task<HeldRow> HeldAsync(Target target, RequestShape shape, int streams)
    {
        EnsureAlive();
        var pid = target.Pid ?? throw new InvalidOperationException($"{target.Name}: no pid");
        await Task.Delay(profile.HeldSettle);   // idle connections of the previous run close (the mock drops them after 5 s)
        var baselineKb = ProcStats.RssKb(pid);
        ProcStats.TryResetPeak(pid);
        using var client = ChatProbe.CreateClient();
        var runner = new LoadRunner(new ChatProbe(client), target, shape);
        var started = Stopwatch.GetTimestamp();
        using var sampling = new CancellationTokenSource();
        int maxOpen = 0;
        long rssAtMaxOpenKb = baselineKb;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                var open = runner.Open;
                var rss = ProcStats.RssKb(pid);
                if (open > maxOpen || (open == maxOpen && rss > rssAtMaxOpenKb)) { maxOpen = open; rssAtMaxOpenKb = rss; }
                await Task.Delay(200).ConfigureAwait(false);
            }
        });
        var rate = streams / profile.HeldRamp.TotalSeconds;
        var grace = TimeSpan.FromMilliseconds(shape.Chunks * shape.PaceMs) + profile.Grace;
        var result = await runner.OpenAsync(rate, TimeSpan.Zero, profile.HeldRamp, grace, total: streams);
        await sampling.CancelAsync();
        await sampler;
        var row = new HeldRow(target, streams, result.Outcomes.Count, result.Outcomes.Count(o => o.Ok), maxOpen,
            baselineKb, rssAtMaxOpenKb, ProcStats.PeakRssKb(pid), Outcome.Ms(Stopwatch.GetTimestamp() - started) / 1000,
            result.Outcomes.Where(o => !o.Ok).GroupBy(o => o.Error).Select(g => $"{g.Key} ×{g.Count()}").ToList());
        log.WriteLine($"  held streams | {target.Name}: {row.Completed}/{row.Started} complete and exact, at most {row.MaxOpen} open at once");
        return row;
    }

    private async Task WarmUpAsync(Target target)
    {
        using var client = ChatProbe.CreateClient();
        var probe = new ChatProbe(client);
        var time = profile.Warmup * 2;
        await new LoadRunner(probe, target, RequestShape.Completion).ClosedAsync(8, time, TimeSpan.Zero, profile.Grace);
        await new LoadRunner(probe, target, Profile.Unpaced).ClosedAsync(8, time, TimeSpan.Zero, profile.Grace);
    }

    private static async Task WaitReadyAsync(Target target)
    {
        using var client = ChatProbe.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, target.ModelsUrl);
                if (target.ApiKey is { } key) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                using var response = await client.SendAsync(request);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline) throw new HarnessException($"{target.Name} at {target.BaseUrl} did not answer GET /v1/models within 60 s");
            await Task.Delay(200);
        }
    }

    private void EnsureAlive()
    {
        foreach (var target in targets)
        {
            if (target.Pid is { } pid && !ProcStats.IsAlive(pid)) throw new HarnessException($"{target.Name} (pid {pid}) has exited");
        }
    }
}

/// <summary>The held-streams scenario against one target.</summary>
public sealed record HeldRow(
    Target Target, int Planned, int Started, int Completed, int MaxOpen,
    long BaselineRssKb, long RssAtMaxOpenKb, long PeakRssKb, double Seconds, IReadOnlyList<string> ErrorKinds)
{
    public double? KbPerStream => MaxOpen > 0 ? (RssAtMaxOpenKb - BaselineRssKb) / (double)MaxOpen : null;
}

/// <summary>The bench itself could not run (a process died, a target never answered): not a slow number.</summary>
public sealed class HarnessException(string message) : Exception(message);
