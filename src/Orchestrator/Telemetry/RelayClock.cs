using System.Diagnostics;

namespace Orchestrator.Telemetry;

/// <summary>
/// The relay's own time in one streamed answer: for each block, from the upstream read it came from to its write
/// into the client's pipe. Added to by the response sink's stage only, read once the stream is over.
/// </summary>
public sealed class RelayClock
{
    private long _ticks;

    /// <param name="readAt">The block's upstream read (a <see cref="Stopwatch"/> timestamp; 0: not measured).</param>
    public void Written(long readAt)
    {
        if (readAt != 0) _ticks += Stopwatch.GetTimestamp() - readAt;
    }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, _ticks);
}
