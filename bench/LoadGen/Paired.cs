using System.Globalization;
using System.Text;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// Two targets measured in one closed loop at c=1: requests alternate between them, one after the other on one client,
/// so every slow or fast moment of the machine falls on both alike. Rounds of whole seconds, as the interleaved
/// scenarios run, leave each target its own moments: on this 2-core VM two rounds of the same binary differ by more
/// than the ~20 µs the ledger's admission is allowed to add. What the second target adds is read two ways: the
/// difference of the two p50s, and the median of the differences within pairs (a request and the one after it).
/// The process's CPU is one window for both, so it is not split: the interleaved rows give CPU per request.
/// </summary>
public sealed class Paired(ChatProbe probe, Target first, Target second, RequestShape shape)
{
    public async Task<PairedRound> RoundAsync(TimeSpan warmup, TimeSpan measure, TimeSpan grace)
    {
        var outcomes = new[] { new List<Outcome>(), new List<Outcome>() };
        var next = 0;
        var runner = new LoadRunner(async ct =>
        {
            var which = next;
            next ^= 1;
            var outcome = await probe.SendAsync(which == 0 ? first : second, shape, ct);
            outcomes[which].Add(outcome);
            return outcome;
        });
        var run = await runner.ClosedAsync(1, warmup, measure, grace);
        return new PairedRound(new RunResult(outcomes[0], run.MeasureFrom, run.StopAt), new RunResult(outcomes[1], run.MeasureFrom, run.StopAt));
    }
}

/// <summary>One round of <see cref="Paired"/>: the first target's requests and the second's, the i-th of each a pair.</summary>
public sealed record PairedRound(RunResult First, RunResult Second);

/// <summary>What the second target added to the first, over every round of one paired scenario.</summary>
public sealed class PairedSummary(string scenario, string first, string second)
{
    private readonly List<double> _differences = [];
    private readonly List<double> _firstLatencies = [];
    private readonly List<double> _secondLatencies = [];
    private readonly List<double> _roundAddedP50 = [];

    public string Scenario { get; } = scenario;

    public string First { get; } = first;

    public string Second { get; } = second;

    public int Pairs => _differences.Count;

    public double? FirstP50 => Percentiles.Of(_firstLatencies)?.P50;

    public double? SecondP50 => Percentiles.Of(_secondLatencies)?.P50;

    /// <summary>p50 of the second target minus p50 of the first, ms.</summary>
    public double? AddedP50 => SecondP50 - FirstP50;

    /// <summary>The median of (second − first) within each pair, ms.</summary>
    public double? MedianPairDifference => Median(_differences);

    public IReadOnlyList<double> RoundAddedP50 => _roundAddedP50;

    public void Add(PairedRound round)
    {
        // A pair counts when both of its requests started in the window and both were whole.
        var first = round.First.Outcomes;
        var second = round.Second.Outcomes;
        var a = new List<double>();
        var b = new List<double>();
        for (var i = 0; i < Math.Min(first.Count, second.Count); i++)
        {
            var (x, y) = (first[i], second[i]);
            if (!x.Ok || !y.Ok || x.Start < round.First.MeasureFrom || y.Start >= round.First.StopAt) continue;
            a.Add(x.LatencyMs);
            b.Add(y.LatencyMs);
            _differences.Add(y.LatencyMs - x.LatencyMs);
        }
        _firstLatencies.AddRange(a);
        _secondLatencies.AddRange(b);
        if (Percentiles.Of(a) is { } pa && Percentiles.Of(b) is { } pb) _roundAddedP50.Add(pb.P50 - pa.P50);
    }

    public static string Markdown(IReadOnlyList<PairedSummary> summaries)
    {
        var md = new StringBuilder();
        md.AppendLine("Paired (c=1, requests alternating between the two targets on one client; added = second − first, µs):");
        md.AppendLine();
        md.AppendLine("| Scenario | First | Second | Pairs | First p50 ms | Second p50 ms | Added p50 µs | Median pair difference µs | Added p50 by round µs |");
        md.AppendLine("|---|---|---|--:|--:|--:|--:|--:|---|");
        foreach (var s in summaries)
        {
            md.AppendLine($"| {s.Scenario} | {s.First} | {s.Second} | {s.Pairs.ToString(CultureInfo.InvariantCulture)} | {F(s.FirstP50, "0.000")} | {F(s.SecondP50, "0.000")} | " +
                $"{Us(s.AddedP50)} | {Us(s.MedianPairDifference)} | {string.Join(", ", s.RoundAddedP50.Select(d => Us(d)))} |");
        }
        return md.ToString();
    }

    private static double? Median(List<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string F(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "—";

    private static string Us(double? ms) => ms is { } v ? (v * 1000).ToString("+0;-0;0", CultureInfo.InvariantCulture) : "—";
}
