using System.Diagnostics;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// Runs load against one target: closed loop (N workers, each sends its next request when the last ends) or open
/// loop (requests start on a fixed schedule whether or not earlier ones ended). Every run has a warm-up, then a
/// measurement window; <see cref="Window"/> is told when the window opens and closes, so process CPU is read over
/// exactly the same span. Latencies count requests that started in the window; throughput counts the successful
/// requests that ended in it. What one request is comes from <c>send</c>: an HTTP request through <see cref="ChatProbe"/>,
/// or (bench/Embedded) a call into the engine in-process.
/// </summary>
public sealed class LoadRunner(Func<CancellationToken, Task<Outcome>> send)
{
    private int _open;

    public LoadRunner(ChatProbe probe, Target target, RequestShape shape)
        : this(ct => probe.SendAsync(target, shape, ct))
    {
    }

    /// <summary>Requests in flight right now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Called when the measurement window opens and when it closes.</summary>
    public IMeasureWindow? Window { get; init; }

    public async Task<RunResult> ClosedAsync(int concurrency, TimeSpan warmup, TimeSpan measure, TimeSpan grace)
    {
        var (measureFrom, stopAt, cts) = Schedule(warmup, measure, grace);
        var window = WatchWindowAsync(measureFrom, stopAt);
        // Workers start spread over the first half of the warm-up, so connections are not all opened at once.
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            await DelayUntilAsync(Start + (measureFrom - Start) / 2 * worker / concurrency);
            var outcomes = new List<Outcome>();
            while (Stopwatch.GetTimestamp() < stopAt) outcomes.Add(await SendAsync(cts.Token));
            return outcomes;
        }).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(o => o).ToList();
        await window;
        cts.Dispose();
        return new RunResult(all, measureFrom, stopAt);
    }

    /// <param name="total">Stop after this many requests even if the time is not up (held streams); null: by time only.</param>
    public async Task<RunResult> OpenAsync(double perSecond, TimeSpan warmup, TimeSpan measure, TimeSpan grace, int? total = null)
    {
        var (measureFrom, stopAt, cts) = Schedule(warmup, measure, grace);
        var window = WatchWindowAsync(measureFrom, stopAt);
        var requests = new List<Task<Outcome>>();
        for (var i = 0; total is null || i < total; i++)
        {
            var due = Start + (long)(i * Stopwatch.Frequency / perSecond);
            if (due >= stopAt) break;
            await DelayUntilAsync(due);
            requests.Add(SendAsync(cts.Token));
        }

        var all = (await Task.WhenAll(requests)).ToList();
        await window;
        cts.Dispose();
        return new RunResult(all, measureFrom, stopAt);
    }

    private long Start { get; set; }

    private (long MeasureFrom, long StopAt, CancellationTokenSource Cts) Schedule(TimeSpan warmup, TimeSpan measure, TimeSpan grace)
    {
        Start = Stopwatch.GetTimestamp();
        var measureFrom = Start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var stopAt = measureFrom + (long)(measure.TotalSeconds * Stopwatch.Frequency);
        // Requests still running this long after the window closed are cut and count as timeouts.
        return (measureFrom, stopAt, new CancellationTokenSource(warmup + measure + grace));
    }

    private async Task<Outcome> SendAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _open);
        try
        {
            return await send(ct);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task WatchWindowAsync(long measureFrom, long stopAt)
    {
        await DelayUntilAsync(measureFrom);
        Window?.Opened();
        await DelayUntilAsync(stopAt);
        Window?.Closed();
    }

    // Task.Delay is good to about a millisecond; the last stretch yields instead, so open-loop starts stay on time.
    private static async Task DelayUntilAsync(long timestamp)
    {
        while (true)
        {
            var left = timestamp - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            var ms = left * 1000 / Stopwatch.Frequency;
            if (ms > 2) await Task.Delay(TimeSpan.FromMilliseconds(ms - 1));
            else await Task.Yield();
        }
    }
}

public interface IMeasureWindow
{
    void Opened();

    void Closed();
}

/// <summary>Every request of one run, and the measurement window (Stopwatch timestamps).</summary>
public sealed record RunResult(IReadOnlyList<Outcome> Outcomes, long MeasureFrom, long StopAt)
{
    public double WindowSeconds => (StopAt - MeasureFrom) / (double)Stopwatch.Frequency;

    /// <summary>Requests that started in the window: these give the latencies and the error count.</summary>
    public IEnumerable<Outcome> Measured => Outcomes.Where(o => o.Start >= MeasureFrom && o.Start < StopAt);

    /// <summary>Successful requests that ended in the window: these give the throughput.</summary>
    public int CompletedInWindow => Outcomes.Count(o => o.Ok && o.End >= MeasureFrom && o.End < StopAt);
}
