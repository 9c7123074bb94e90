using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Orchestrator.Bench.Micro;

/// <summary>MB/s, ns/event and allocated bytes/event for <see cref="SseFramingBenchmarks"/>, from BenchmarkDotNet's per-operation numbers.</summary>
public sealed class PerEventColumns : IColumn
{
    private readonly string _name;
    private readonly Func<double, double, int, double> _value;

    private PerEventColumns(string name, Func<double, double, int, double> value)
    {
        _name = name;
        _value = value;
    }

    public sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(
                new PerEventColumns("MB/s", (meanNs, _, _) => SseFramingBenchmarks.BytesPerOperation / (meanNs / 1e9) / 1e6),
                new PerEventColumns("ns/event", (meanNs, _, events) => meanNs / events),
                new PerEventColumns("Alloc B/event", (_, allocated, events) => allocated / events));
        }
    }

    public string Id => nameof(PerEventColumns) + _name;

    public string ColumnName => _name;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"{_name} over {SseFramingBenchmarks.BytesPerOperation / 1024} KB of events per operation";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "—";
        var eventBytes = (int)benchmarkCase.Parameters["EventBytes"];
        var events = SseFramingBenchmarks.BytesPerOperation / eventBytes;
        var allocated = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase) ?? 0;
        return _value(stats.Mean, allocated, events).ToString("0.0", CultureInfo.InvariantCulture);
    }
}
