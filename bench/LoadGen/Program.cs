using System.Globalization;
using Orchestrator.Bench.LoadGen;

// The load generator. `suite` runs every scenario against the three targets (bench/run.sh starts them);
// `once` runs one load against one URL. See bench/README.md.
var options = Options.Parse(args.Skip(1));
try
{
    return args.FirstOrDefault() switch
    {
        "suite" => await SuiteAsync(options),
        "once" => await OnceAsync(options),
        "paired" => await PairedAsync(options),
        _ => Usage(),
    };
}
catch (HarnessException e)
{
    Console.Error.WriteLine($"bench harness failed: {e.Message}");
    return 1;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: LoadGen suite --direct URL --direct-pid PID --yarp URL --yarp-pid PID --orchestrator URL --orchestrator-pid PID
                             [--key sk-local-1] [--ledger-admin-key KEY] [--smoke] [--held N] [--held-h2 N] [--out FILE.md]
                             [--orchestrator-metrics-off URL --orchestrator-metrics-off-pid PID] [--only 1,2,3,open,4,T,M,L]
               LoadGen once --url URL [--key KEY] [--model bench] [--stream] [--chunks 50] [--pace-ms 0] [--front chat|messages|gemini]
                             (--concurrency N | --rate PER_SECOND) [--warmup 1] [--duration 5]
               LoadGen paired --url URL --key KEY --second-key KEY [--model bench] [--stream] [--chunks 50]
                             [--warmup 1] [--duration 5] [--rounds 4]
        """);
    return 2;
}

static async Task<int> SuiteAsync(Options o)
{
    var held = o.Int("held", 10_000);
    var heldH2 = o.Int("held-h2", 0);
    var profile = o.Flag("smoke") ? Profile.Smoke(held, heldH2) : Profile.Full(held, heldH2);
    var orchestrator = new Target(Report.Orchestrator, o.Url("orchestrator"), o.Get("key") ?? "sk-local-1", o.Int("orchestrator-pid"));
    var targets = new List<Target>
    {
        new(Report.Direct, o.Url("direct"), null, o.Int("direct-pid")),
        new(Report.Yarp, o.Url("yarp"), null, o.Int("yarp-pid")),
        orchestrator,
    };

    var only = o.Get("only") is { } list ? Suite.ParseOnly(list) : null;
    var header = Header(profile, targets) + (only is null ? "" : Environment.NewLine + $"Only scenario(s) {string.Join(", ", only)} (--only), after the warm-up.");
    Console.WriteLine(header);
    var heldOverH2 = heldH2 > 0 ? orchestrator with { Name = Report.OrchestratorH2 } : null;
    var metricsOff = o.Get("orchestrator-metrics-off") is null ? null
        : new Target(Suite.MetricsOff, o.Url("orchestrator-metrics-off"), o.Get("key") ?? "sk-local-1", o.Int("orchestrator-metrics-off-pid"));
    var suite = new Suite(profile, targets, Console.Out, heldOverH2, metricsOff) { LedgerAdminKey = o.Get("ledger-admin-key"), Only = only };
    await suite.RunAsync();
    var tables = Report.Markdown(suite.Rows, suite.Held);
    if (suite.Paired.Count > 0) tables += Environment.NewLine + PairedSummary.Markdown(suite.Paired);
    var markdown = header + Environment.NewLine + Environment.NewLine + tables;
    Console.WriteLine();
    Console.WriteLine(tables);
    if (o.Get("out") is { } file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        await File.WriteAllTextAsync(file, markdown);
        Console.WriteLine($"written to {file}");
    }

    // Slow numbers never fail the run; a scenario where a target answered nothing at all means the harness broke.
    var dead = suite.Rows.Where(r => r.Successes == 0).Select(r => $"{r.Scenario} / {r.Target.Name}")
        .Concat(suite.Held.Where(h => h.Completed == 0).Select(h => $"held streams / {h.Target.Name}")).ToList();
    if (dead.Count > 0) throw new HarnessException("no successful request in: " + string.Join("; ", dead));
    var errors = suite.Rows.Sum(r => r.Errors) + suite.Held.Sum(h => h.Started - h.Completed);
    if (errors > 0) Console.WriteLine($"warning: {errors} requests failed or were not exact (see the tables)");
    return 0;
}

static async Task<int> OnceAsync(Options o)
{
    var shape = new RequestShape(o.Flag("stream"), o.Int("chunks", 50), o.Int("pace-ms", 0), o.Get("model") ?? "bench");
    shape = shape.Through(o.Get("front"));   // messages: the Anthropic Messages front; gemini: the Gemini front (as scenario T)
    var target = new Target("target", o.Url("url"), o.Get("key"), o.Get("pid") is null ? null : o.Int("pid"));
    using var client = ChatProbe.CreateClient();
    var window = new ProcessWindow(target.Pid);
    var runner = new LoadRunner(new ChatProbe(client), target, shape) { Window = window };
    var warmup = TimeSpan.FromSeconds(o.Double("warmup", 1));
    var duration = TimeSpan.FromSeconds(o.Double("duration", 5));
    var grace = TimeSpan.FromSeconds(60);
    var result = o.Get("rate") is not null
        ? await runner.OpenAsync(o.Double("rate", 100), warmup, duration, grace)
        : await runner.ClosedAsync(o.Int("concurrency", 1), warmup, duration, grace);
    var row = new Row(shape.ToString(), target);
    row.Add(result, window);
    Console.WriteLine(Report.Markdown([row], []));
    return 0;
}

// c=1, requests alternating between --key and --second-key on one client: what the second key adds (scenario L's pairs).
static async Task<int> PairedAsync(Options o)
{
    var shape = new RequestShape(o.Flag("stream"), o.Int("chunks", 50), o.Int("pace-ms", 0), o.Get("model") ?? "bench");
    var first = new Target("key", o.Url("url"), o.Get("key"), null);
    var second = first with { Name = "second key", ApiKey = o.Get("second-key") ?? throw new ArgumentException("--second-key is required") };
    var summary = new PairedSummary(shape.ToString(), first.Name, second.Name);
    for (var round = 0; round < o.Int("rounds", 4); round++)
    {
        using var client = ChatProbe.CreateClient();
        summary.Add(await new Paired(new ChatProbe(client), first, second, shape)
            .RoundAsync(TimeSpan.FromSeconds(o.Double("warmup", 1)), TimeSpan.FromSeconds(o.Double("duration", 5)), TimeSpan.FromSeconds(60)));
    }
    Console.WriteLine(PairedSummary.Markdown([summary]));
    return 0;
}

static string Header(Profile profile, IReadOnlyList<Target> targets)
{
    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
    var cores = File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal));
    var pinning = string.Join(", ", targets.Where(t => t.Pid is not null).Select(t => $"{(t.Name == Report.Direct ? "mock" : t.Name)} on CPU {ProcStats.CpusAllowed(t.Pid!.Value)}"));
    var held = profile.HeldShape;
    return $"""
        ## Orchestrator bench ({profile.Name}), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC

        Machine: {cores} × {cpu}, Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}.
        Pinning (taskset): {pinning}; load generator on CPU {ProcStats.CpusAllowed(Environment.ProcessId)}.
        Targets, interleaved per scenario: direct → mock, YARP → mock, Orchestrator → mock (HTTP/1.1 on loopback).
        Closed loop: {profile.Warmup.TotalSeconds:0.#} s warm-up + {profile.Measure.TotalSeconds:0.#} s measured, {profile.Rounds} round(s) per target
        (scenario 3: {profile.PacedWarmup.TotalSeconds:0.#} s + {profile.PacedMeasure.TotalSeconds:0.#} s, 1 round). Open loop: {profile.OpenRate:0}/s for {profile.OpenMeasure.TotalSeconds:0.#} s after {profile.Warmup.TotalSeconds:0.#} s.
        Held streams: {profile.HeldStreams} streams started evenly over {profile.HeldRamp.TotalSeconds:0.#} s, each {held.Chunks} chunks {held.PaceMs} ms apart{(profile.HeldStreamsH2 > 0 ? $"; then {profile.HeldStreamsH2} the same way to Orchestrator with model {Suite.H2Model} (Orchestrator → mock over h2c)" : "")}.
        "+" columns: added vs direct at the same percentile. CPU ms/req: the proxy's user+system CPU over the window / successful requests
        (10 ms tick resolution). Peak RSS: VmHWM over the window. Direct rows show the mock's own CPU and RSS in parentheses.
        """;
}

/// <summary>"--name value" and "--flag" arguments.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public static Options Parse(IEnumerable<string> args)
    {
        var options = new Options();
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                name = arg[2..];
                options._values[name] = null;
            }
            else if (name is not null)
            {
                options._values[name] = arg;
                name = null;
            }
            else
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }
        }

        return options;
    }

    public bool Flag(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public Uri Url(string name) => Get(name) is { } url ? new Uri(url.TrimEnd('/') + "/") : throw new ArgumentException($"--{name} URL is required");

    public int Int(string name) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
