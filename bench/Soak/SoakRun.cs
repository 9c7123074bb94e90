using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Bench.Soak;

/// <summary>
/// The soak's phases: start the fault upstream (in this process) and the relay (a child process); warm up without
/// faults at full concurrency and take the baseline (live actors, managed heap and VmRSS after a full GC); run the
/// chaos for the set time; 2 s after the last client left, count the upstream's open sockets and running requests;
/// stop the faults and send plain requests until no circuit is open; take the final figures and check them.
/// </summary>
public static class SoakRun
{
    private const string Key = "sk-soak";
    private static readonly TimeSpan ClientDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(30);

    // "Back near baseline": what may remain after the chaos, a full GC and a few seconds of quiet.
    private const int ActorSlack = 2;
    private const long ManagedSlackBytes = 16L << 20;
    private const long RssSlackKb = 64L << 10;

    public static async Task<int> RunAsync(SoakOptions options)
    {
        Directory.CreateDirectory(Path.Combine(options.OutDir, "logs"));
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        await using var upstream = await FaultUpstream.StartAsync();
        var config = Path.Combine(AppContext.BaseDirectory, "soak.conf");
        var env = new Dictionary<string, string>
        {
            ["SOAK_ALPHA_URL"] = new Uri(upstream.BaseUrl, "/alpha/v1").ToString(),
            ["SOAK_BETA_URL"] = new Uri(upstream.BaseUrl, "/beta/v1").ToString(),
        };
        await using var relay = await RelayProcess.StartAsync(config, env, Path.Combine(options.OutDir, "logs", "soak-relay.log"));
        using var http = SoakClient.CreateHttpClient();
        var client = new SoakClient(http, relay.Url, Key, ClientDeadline);
        var report = new Report(options, relay.Pid);
        Console.Error.WriteLine($"soak ({options.Mode}): relay pid {relay.Pid} at {relay.Url}, fault upstream at {upstream.BaseUrl}; " +
                                $"warm-up {options.WarmUp.TotalSeconds} s, chaos {options.Duration.TotalSeconds} s at {options.Concurrency} clients");

        // Warm-up: the same clients, no faults, so JIT, pools and connections are in place before the baseline.
        await RunClientsAsync(client, options.Concurrency, options.WarmUp, report.WarmUp);
        await Task.Delay(TimeSpan.FromSeconds(3));
        report.Baseline = await RelayProcess.StatsAsync(http, relay.Url, gc: true);
        report.BaselineProviders = await ProvidersAsync(http, relay.Url);

        Console.Error.WriteLine("chaos...");
        upstream.Chaos = true;
        var chaosClock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var sampler = SampleAsync(http, relay.Url, upstream, report, sampling.Token);
        await RunClientsAsync(client, options.Concurrency, options.Duration, report.Chaos);
        report.ChaosSeconds = chaosClock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        var lastClientLeft = Stopwatch.StartNew();
        upstream.Chaos = false;
        report.Faults = upstream.Faults;
        report.UpstreamRequests = upstream.Requests;

        // The relay has had 2 s to close every upstream request and socket its clients left behind.
        await Task.Delay(TimeSpan.FromSeconds(2) - lastClientLeft.Elapsed);
        report.SocketsAfter2s = upstream.OpenSockets;
        report.RunningAfter2s = upstream.RunningRequests;
        report.AfterChaos = await RelayProcess.StatsAsync(http, relay.Url, gc: false);
        report.ProvidersAfterChaos = await ProvidersAsync(http, relay.Url);

        // Recovery: the upstream is healthy now; plain requests on both models until every circuit has closed.
        Console.Error.WriteLine("recovery...");
        var recovery = Stopwatch.StartNew();
        while (true)
        {
            report.Providers = await ProvidersAsync(http, relay.Url);
            if (!report.Providers.Any(p => IsOpen(p.State)) || recovery.Elapsed > RecoveryLimit) break;
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.RunAsync(Behaviour.Stream, report.Recovery)));
            await Task.Delay(250);
        }

        report.RecoverySeconds = recovery.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(3));
        report.Final = await RelayProcess.StatsAsync(http, relay.Url, gc: true);
        report.FinalSockets = upstream.OpenSockets;
        report.RelayAlive = !relay.HasExited;

        var text = report.Render(ActorSlack, ManagedSlackBytes, RssSlackKb, out var passed);
        Console.WriteLine(text);
        var file = Path.Combine(options.OutDir, $"soak-{stamp}-{options.Mode}.md");
        await File.WriteAllTextAsync(file, text);
        Console.Error.WriteLine($"soak: {(passed ? "passed" : "FAILED")}; report in {file}");
        return passed ? 0 : 1;
    }

    /// <summary>Once a second during the chaos: the most live actors, RSS and upstream sockets seen (the peaks the end is compared with).</summary>
    private static async Task SampleAsync(HttpClient http, Uri relay, FaultUpstream upstream, Report report, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(1000, ct);
                var stats = await RelayProcess.StatsAsync(http, relay, gc: false);
                report.Samples++;
                report.PeakActors = Math.Max(report.PeakActors, (long)stats["actors"]!);
                report.PeakRssKb = Math.Max(report.PeakRssKb, (long)stats["rss_kb"]!);
                report.PeakSockets = Math.Max(report.PeakSockets, upstream.OpenSockets);
                foreach (var p in await ProvidersAsync(http, relay))
                    if (IsOpen(p.State)) report.OpenSeen[p.Name] = report.OpenSeen.GetValueOrDefault(p.Name) + 1;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static bool IsOpen(string state) => state is "open" or "half-open" or "parked";

    /// <summary><paramref name="concurrency"/> clients, each sending one request after another until the time is up.</summary>
    private static async Task RunClientsAsync(SoakClient client, int concurrency, TimeSpan duration, Tally tally)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async i =>
        {
            // Clients start over the first second, not all in one instant.
            await Task.Delay(i * 1000 / concurrency);
            while (Stopwatch.GetTimestamp() < until) await client.RunAsync(SoakClient.Draw(), tally);
        }));
    }

    public sealed record ProviderRow(string Name, string State, JsonObject Counters);

    private static async Task<IReadOnlyList<ProviderRow>> ProvidersAsync(HttpClient http, Uri relay)
    {
        // soak.conf sets http.public-status = on: no admin key needed.
        using var response = await http.GetAsync(new Uri(relay, "/v1/providers"));
        var json = JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
        return [.. json["data"]!.AsArray().Select(p => new ProviderRow((string)p!["name"]!, (string)p["state"]!, p["counters"]!.AsObject()))];
    }

    /// <summary>The figures and the checks, as markdown.</summary>
    private sealed class Report(SoakOptions options, int relayPid)
    {
        public Tally WarmUp { get; } = new();
        public Tally Chaos { get; } = new();
        public Tally Recovery { get; } = new();
        public double ChaosSeconds;
        public double RecoverySeconds;
        public IReadOnlyDictionary<Fault, long> Faults = new Dictionary<Fault, long>();
        public long UpstreamRequests;
        public int SocketsAfter2s, RunningAfter2s, FinalSockets;
        public JsonObject Baseline = null!, AfterChaos = null!, Final = null!;
        public IReadOnlyList<ProviderRow> BaselineProviders = [], ProvidersAfterChaos = [], Providers = [];
        public bool RelayAlive;
        public long PeakActors, PeakRssKb, PeakSockets, Samples;
        public Dictionary<string, int> OpenSeen { get; } = [];

        public string Render(int actorSlack, long managedSlack, long rssSlackKb, out bool passed)
        {
            var checks = new List<(string What, bool Ok, string Figure)>();
            long Long(JsonObject o, string key) => (long)o[key]!;
            var faulted = Faults.Where(f => f.Key != Fault.None).ToList();
            checks.Add(("every fault kind injected", faulted.All(f => f.Value > 0), string.Join(", ", faulted.Where(f => f.Value == 0).Select(f => f.Key)) is { Length: > 0 } missing ? "none of " + missing : "all"));
            checks.Add(("every request a complete exact answer or a clean error (warm-up, chaos, recovery)",
                WarmUp.Failures + Chaos.Failures + Recovery.Failures == 0, $"{WarmUp.Failures + Chaos.Failures + Recovery.Failures} failed"));
            checks.Add(("no upstream socket open 2 s after the last client left", SocketsAfter2s == 0, $"{SocketsAfter2s} sockets, {RunningAfter2s} requests running"));
            checks.Add(("no upstream request still running 2 s after the last client left", RunningAfter2s == 0, $"{RunningAfter2s}"));
            checks.Add(("live actors back to baseline", Long(Final, "actors") <= Long(Baseline, "actors") + actorSlack,
                $"{Long(Baseline, "actors")} -> {Long(Final, "actors")} (slack {actorSlack})"));
            checks.Add(("managed heap back near baseline", Long(Final, "managed_bytes") <= Long(Baseline, "managed_bytes") + managedSlack,
                $"{Mib(Long(Baseline, "managed_bytes"))} -> {Mib(Long(Final, "managed_bytes"))} MiB (slack {Mib(managedSlack)})"));
            checks.Add(("relay RSS back near baseline", Long(Final, "rss_kb") <= Long(Baseline, "rss_kb") + rssSlackKb,
                $"{Long(Baseline, "rss_kb") / 1024} -> {Long(Final, "rss_kb") / 1024} MiB (slack {rssSlackKb / 1024})"));
            checks.Add(("no circuit open against the healthy upstream", !Providers.Any(p => IsOpen(p.State)),
                string.Join(", ", Providers.Select(p => $"{p.Name} {p.State}")) + $" after {RecoverySeconds:0.0} s"));
            checks.Add(("the relay process still running", RelayAlive, RelayAlive ? "yes" : "no"));
            passed = checks.All(c => c.Ok);

            var s = new StringBuilder();
            s.AppendLine($"# Chaos soak ({options.Mode}), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            s.AppendLine();
            s.AppendLine($"{options.Concurrency} concurrent clients, chaos {ChaosSeconds:0} s (after a {options.WarmUp.TotalSeconds:0} s warm-up without faults), relay pid {relayPid}, {Environment.ProcessorCount} CPUs.");
            s.AppendLine();
            s.AppendLine("| Check | Result | Figure |");
            s.AppendLine("|---|---|---|");
            foreach (var (what, ok, figure) in checks) s.AppendLine($"| {what} | {(ok ? "pass" : "**FAIL**")} | {figure} |");
            s.AppendLine();
            s.AppendLine($"Chaos: {Chaos.Requests} client requests ({Chaos.Requests / Math.Max(1, ChaosSeconds):0}/s), {UpstreamRequests} upstream attempts (warm-up included).");
            s.AppendLine();
            s.AppendLine("| Fault injected (per upstream attempt) | Count |");
            s.AppendLine("|---|---|");
            foreach (var (fault, n) in Faults.OrderByDescending(f => f.Value)) s.AppendLine($"| {fault} | {n} |");
            s.AppendLine();
            s.AppendLine("| Outcome (per client request) | Warm-up | Chaos | Recovery |");
            s.AppendLine("|---|---|---|---|");
            foreach (var kind in WarmUp.Counts.Keys.Union(Chaos.Counts.Keys).Union(Recovery.Counts.Keys).Order(StringComparer.Ordinal))
                s.AppendLine($"| {kind} | {WarmUp.Counts.GetValueOrDefault(kind)} | {Chaos.Counts.GetValueOrDefault(kind)} | {Recovery.Counts.GetValueOrDefault(kind)} |");
            s.AppendLine();
            s.AppendLine("| Relay | Baseline (after warm-up, full GC) | Peak during chaos (sampled each second) | 2 s after the last client | Final (after recovery, full GC) |");
            s.AppendLine("|---|---|---|---|---|");
            s.AppendLine($"| live actors | {Long(Baseline, "actors")} | {PeakActors} | {Long(AfterChaos, "actors")} | {Long(Final, "actors")} |");
            s.AppendLine($"| managed heap, MiB | {Mib(Long(Baseline, "managed_bytes"))} | | {Mib(Long(AfterChaos, "managed_bytes"))} | {Mib(Long(Final, "managed_bytes"))} |");
            s.AppendLine($"| VmRSS, MiB | {Long(Baseline, "rss_kb") / 1024} | {PeakRssKb / 1024} | {Long(AfterChaos, "rss_kb") / 1024} | {Long(Final, "rss_kb") / 1024} |");
            s.AppendLine($"| upstream sockets open | | {PeakSockets} | {SocketsAfter2s} | {FinalSockets} |");
            s.AppendLine();
            s.AppendLine("| Provider | Samples with the circuit open, half-open or parked during chaos | State 2 s after the last client | Final state | Chaos counters (requests, failures, retries, fallbacks, resumes, skipped events, panic trials) |");
            s.AppendLine("|---|---|---|---|---|");
            foreach (var p in Providers)
            {
                var before = BaselineProviders.FirstOrDefault(b => b.Name == p.Name)?.Counters;
                var after = ProvidersAfterChaos.FirstOrDefault(b => b.Name == p.Name);
                string Delta(string key) => ((long)(after?.Counters[key] ?? 0) - (long)(before?[key] ?? 0)).ToString(CultureInfo.InvariantCulture);
                s.AppendLine($"| {p.Name} | {OpenSeen.GetValueOrDefault(p.Name)} of {Samples} | {after?.State} | {p.State} | {Delta("requests")}, {Delta("failures")}, {Delta("retries")}, {Delta("fallbacks")}, {Delta("resumes")}, {Delta("skipped_events")}, {Delta("panic_trials")} |");
            }

            if (Long(Final, "actors") > Long(Baseline, "actors") + actorSlack)
            {
                s.AppendLine();
                s.AppendLine("Actors by path, baseline -> final, where they differ:");
                var b = Baseline["by_path"]!.AsObject();
                var f = Final["by_path"]!.AsObject();
                foreach (var path in b.Select(x => x.Key).Union(f.Select(x => x.Key)).Order(StringComparer.Ordinal))
                {
                    var (nb, nf) = ((long?)b[path] ?? 0, (long?)f[path] ?? 0);
                    if (nb != nf) s.AppendLine($"- `{path}`: {nb} -> {nf}");
                }
            }

            var examples = WarmUp.Examples.Concat(Chaos.Examples).Concat(Recovery.Examples).Take(20).ToList();
            if (examples.Count > 0)
            {
                s.AppendLine();
                s.AppendLine("First failures:");
                foreach (var e in examples) s.AppendLine("- " + e);
            }

            return s.ToString();
        }

        private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
    }
}
