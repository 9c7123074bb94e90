using System.Globalization;
using System.Text;

namespace Orchestrator.Bench.LoadGen;

/// <summary>The markdown tables: main results with "added vs direct" and Orchestrator/YARP ratios, details, held streams.</summary>
public static class Report
{
    public const string Direct = "direct";
    public const string Yarp = "yarp";
    public const string Orchestrator = "orchestrator";
    public const string OrchestratorH2 = "orchestrator, h2 upstream";

    public static string Markdown(IReadOnlyList<Row> rows, IReadOnlyList<HeldRow> held)
    {
        var md = new StringBuilder();
        md.AppendLine("| Scenario | Target | Requests | p50 ms | p99 ms | +p50 | +p99 | TTFT p50 | TTFT p99 | +TTFT p50 | +TTFT p99 | req/s | Errors | Peak RSS MB | CPU ms/req |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var scenario in rows.GroupBy(r => r.Scenario))
        {
            var direct = scenario.FirstOrDefault(r => r.Target.Name == Direct);
            foreach (var row in scenario)
            {
                var isDirect = row == direct;
                md.AppendLine(Cells(
                    row.Scenario, row.Target.Name, row.Requests.ToString(CultureInfo.InvariantCulture),
                    F(row.Latency?.P50), F(row.Latency?.P99),
                    isDirect ? "" : Added(row.Latency?.P50, direct?.Latency?.P50), isDirect ? "" : Added(row.Latency?.P99, direct?.Latency?.P99),
                    F(row.Ttft?.P50), F(row.Ttft?.P99),
                    isDirect ? "" : Added(row.Ttft?.P50, direct?.Ttft?.P50), isDirect ? "" : Added(row.Ttft?.P99, direct?.Ttft?.P99),
                    row.Throughput.ToString("0", CultureInfo.InvariantCulture), row.Errors.ToString(CultureInfo.InvariantCulture),
                    Mb(row.PeakRssKb, isDirect), Paren(F(row.CpuMsPerRequest, "0.000"), isDirect)));
            }

            // Translation: what a translated stream costs next to the same stream passed through.
            var passed = scenario.FirstOrDefault(r => r.Target.Name == Suite.PassedThrough);
            if (passed is not null)
            {
                foreach (var translated in scenario.Where(r => r != passed))
                    md.AppendLine(Cells("", $"**{translated.Target.Name} / passed through**", "", "", "", "", "", "", "", "", "", Ratio(translated.Throughput, passed.Throughput), "", "", Ratio(translated.CpuMsPerRequest, passed.CpuMsPerRequest)));
            }

            var yarp = scenario.FirstOrDefault(r => r.Target.Name == Yarp);
            var orch = scenario.FirstOrDefault(r => r.Target.Name == Orchestrator);
            if (yarp is null || orch is null || direct is null) continue;
            md.AppendLine(Cells(
                "", "**Orchestrator/YARP**", "", "", "",
                Ratio(orch.Latency?.P50 - direct.Latency?.P50, yarp.Latency?.P50 - direct.Latency?.P50),
                Ratio(orch.Latency?.P99 - direct.Latency?.P99, yarp.Latency?.P99 - direct.Latency?.P99),
                "", "",
                Ratio(orch.Ttft?.P50 - direct.Ttft?.P50, yarp.Ttft?.P50 - direct.Ttft?.P50),
                Ratio(orch.Ttft?.P99 - direct.Ttft?.P99, yarp.Ttft?.P99 - direct.Ttft?.P99),
                Ratio(orch.Throughput, yarp.Throughput), "",
                Ratio(orch.PeakRssKb, yarp.PeakRssKb), Ratio(orch.CpuMsPerRequest, yarp.CpuMsPerRequest)));
        }

        md.AppendLine();
        md.AppendLine("Details (ms; latency of successful requests started in the measurement window):");
        md.AppendLine();
        md.AppendLine("| Scenario | Target | p50 | p90 | p99 | max | TTFT p50 | TTFT p90 | TTFT p99 | TTFT max | Errors by kind |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var row in rows)
        {
            md.AppendLine(Cells(row.Scenario, row.Target.Name,
                F(row.Latency?.P50), F(row.Latency?.P90), F(row.Latency?.P99), F(row.Latency?.Max),
                F(row.Ttft?.P50), F(row.Ttft?.P90), F(row.Ttft?.P99), F(row.Ttft?.Max), string.Join(", ", row.ErrorKinds)));
        }

        if (held.Count == 0) return md.ToString();
        md.AppendLine();
        md.AppendLine("Held streams:");
        md.AppendLine();
        md.AppendLine("| Target | Streams | Complete & exact | Max open at once | RSS before MB | RSS at max open MB | Peak RSS MB | KB per stream | Seconds | Errors by kind |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var h in held)
        {
            var isDirect = h.Target.Name == Direct;
            md.AppendLine(Cells(h.Target.Name, h.Started.ToString(CultureInfo.InvariantCulture), h.Completed.ToString(CultureInfo.InvariantCulture),
                h.MaxOpen.ToString(CultureInfo.InvariantCulture), Mb(h.BaselineRssKb, isDirect), Mb(h.RssAtMaxOpenKb, isDirect), Mb(h.PeakRssKb, isDirect),
                Paren(F(h.KbPerStream, "0.0"), isDirect), h.Seconds.ToString("0.0", CultureInfo.InvariantCulture), string.Join(", ", h.ErrorKinds)));
        }

        var hy = held.FirstOrDefault(h => h.Target.Name == Yarp);
        var ho = held.FirstOrDefault(h => h.Target.Name == Orchestrator);
        if (hy is not null && ho is not null)
            md.AppendLine(Cells("**Orchestrator/YARP**", "", "", "", "", Ratio(ho.RssAtMaxOpenKb, hy.RssAtMaxOpenKb), Ratio(ho.PeakRssKb, hy.PeakRssKb), Ratio(ho.KbPerStream, hy.KbPerStream), "", ""));
        return md.ToString();
    }

    private static string Cells(params string[] cells) => "| " + string.Join(" | ", cells) + " |";

    private static string F(double? value, string format = "0.00") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "—";

    private static string Added(double? value, double? baseline) =>
        value is { } v && baseline is { } b ? (v - b).ToString("+0.00;-0.00", CultureInfo.InvariantCulture) : "—";

    // A ratio of two added latencies is meaningless when YARP added (almost) nothing or the relay came out below direct.
    private static string Ratio(double? value, double? baseline) =>
        value is { } v && baseline is { } b && b > 0.01 && v >= 0 ? (v / b).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "—";

    private static string Mb(long kb, bool mock) => Paren((kb / 1024.0).ToString("0", CultureInfo.InvariantCulture), mock);

    // The direct row's CPU and memory are the mock's own: shown in parentheses, for scale.
    private static string Paren(string value, bool mock) => mock && value != "—" ? $"({value})" : value;
}
