using System.Diagnostics;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// One request: Stopwatch timestamps of its start, its end, and the first content chunk (0: none, or not a stream);
/// <paramref name="Error"/> is null when the answer was whole and exact.
/// </summary>
public readonly record struct Outcome(long Start, long End, long FirstContent, string? Error)
{
    public bool Ok => Error is null;

    public double LatencyMs => Ms(End - Start);

    public double TtftMs => Ms(FirstContent - Start);

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
