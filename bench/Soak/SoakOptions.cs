namespace Orchestrator.Bench.Soak;

/// <summary>The soak's knobs: the full run by default, <c>--short</c> for CI.</summary>
public sealed record SoakOptions(string Mode, TimeSpan Duration, int Concurrency, TimeSpan WarmUp, string OutDir)
{
    public static SoakOptions Parse(string[] args)
    {
        var options = new SoakOptions("full", TimeSpan.FromMinutes(3), 500, TimeSpan.FromSeconds(10), "bench/results");
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--short" => options with { Mode = "short", Duration = TimeSpan.FromSeconds(20), Concurrency = 100, WarmUp = TimeSpan.FromSeconds(5) },
                "--duration" => options with { Duration = TimeSpan.FromSeconds(int.Parse(args[++i])) },
                "--concurrency" => options with { Concurrency = int.Parse(args[++i]) },
                "--warm-up" => options with { WarmUp = TimeSpan.FromSeconds(int.Parse(args[++i])) },
                "--out" => options with { OutDir = args[++i] },
                _ => throw new ArgumentException($"unknown option {args[i]} (use --short, --duration SECONDS, --concurrency N, --warm-up SECONDS, --out DIR)"),
            };
        }

        return options;
    }
}
