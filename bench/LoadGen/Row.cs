namespace Orchestrator.Bench.LoadGen;

/// <summary>One scenario against one target, summed over its interleaved rounds.</summary>
public sealed class Row(string scenario, Target target)
{
    private readonly List<Outcome> _measured = [];
    private double _windowSeconds;
    private int _completed;
    private long _cpuTicks;

    public string Scenario { get; } = scenario;

    public Target Target { get; } = target;

    public long PeakRssKb { get; private set; }

    public int Requests => _measured.Count;

    public int Errors => _measured.Count(o => !o.Ok);

    public int Successes => _measured.Count(o => o.Ok);

    public Percentiles? Latency => Percentiles.Of(_measured.Where(o => o.Ok).Select(o => o.LatencyMs));

    public Percentiles? Ttft => Percentiles.Of(_measured.Where(o => o.Ok && o.FirstContent != 0).Select(o => o.TtftMs));

    public double Throughput => _windowSeconds > 0 ? _completed / _windowSeconds : 0;

    public double? CpuMsPerRequest => _completed > 0 && Target.Pid is not null ? _cpuTicks * ProcStats.MsPerTick / _completed : null;

    public IEnumerable<string> ErrorKinds => _measured.Where(o => !o.Ok).GroupBy(o => o.Error).Select(g => $"{g.Key} ×{g.Count()}");

    public void Add(RunResult run, ProcessWindow window)
    {
        _measured.AddRange(run.Measured);
        _windowSeconds += run.WindowSeconds;
        _completed += run.CompletedInWindow;
        _cpuTicks += window.CpuTicks;
        PeakRssKb = Math.Max(PeakRssKb, window.PeakRssKb);
    }
}

/// <summary>
/// Reads a process's CPU time when the measurement window opens and closes, and its peak RSS over the window
/// (VmHWM reset when it opens; if the kernel refuses the reset, the peak since the process started).
/// </summary>
public sealed class ProcessWindow(int? pid) : IMeasureWindow
{
    private long _cpuAtOpen;

    public long CpuTicks { get; private set; }

    public long PeakRssKb { get; private set; }

    public void Opened()
    {
        if (pid is not { } p) return;
        ProcStats.TryResetPeak(p);
        _cpuAtOpen = ProcStats.CpuTicks(p);
    }

    public void Closed()
    {
        if (pid is not { } p) return;
        CpuTicks = ProcStats.CpuTicks(p) - _cpuAtOpen;
        PeakRssKb = ProcStats.PeakRssKb(p);
    }
}
