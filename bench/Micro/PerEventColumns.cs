using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Orchestrator.Bench.Micro;

/// <summary>What one operation of a benchmark case processes: bytes in, events, and bytes out (null: not reported).</summary>
public readonly record struct Workload(long Bytes, int Events, long? PayloadBytes = null);

/// <summary>
/// MB/s, ns/event and allocated bytes/event (and, where the benchmark says what its output is, allocated bytes/event
/// beyond that payload), from BenchmarkDotNet's per-operation numbers and the case's <see cref="Workload"/>.
/// </summary>
public sealed class PerEventColumns : IColumn
{
    private readonly string _name;
    private readonly Func<BenchmarkCase, Workload> _workload;
    private readonly Func<double, double, Workload, double?> _value;

    private PerEventColumns(string name, Func<BenchmarkCase, Workload> workload, Func<double, double, Workload, double?> value)
    {
        _name = name;
        _workload = workload;
        _value = value;
    }

    /// <summary>A benchmark class's config: <c>[Config(typeof(X.Columns))]</c> with <c>Columns() : base(workload)</c>.</summary>
    public abstract class Config : ManualConfig
    {
        protected Config(Func<BenchmarkCase, Workload> workload, bool beyondPayload = false)
        {
            AddColumn(
                new PerEventColumns("MB/s", workload, (meanNs, _, w) => w.Bytes / (meanNs / 1e9) / 1e6),
                new PerEventColumns("ns/event", workload, (meanNs, _, w) => meanNs / w.Events),
                new PerEventColumns("Alloc B/event", workload, (_, allocated, w) => allocated / w.Events));
            if (beyondPayload)
            {
                AddColumn(new PerEventColumns("Beyond payload B/event", workload,
                    (_, allocated, w) => w.PayloadBytes is { } payload ? (allocated - payload) / w.Events : null));
            }
        }
    }

    public string Id => nameof(PerEventColumns) + _name;

    public string ColumnName => _name;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => _name switch
    {
        "Beyond payload B/event" => "Allocated bytes per operation minus the output's bytes, per event",
        _ => $"{_name} over one operation's events (see the benchmark's Workload)",
    };

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "—";
        var allocated = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase) ?? 0;
        return _value(stats.Mean, allocated, _workload(benchmarkCase))?.ToString("0.0", CultureInfo.InvariantCulture) ?? "—";
    }
}
