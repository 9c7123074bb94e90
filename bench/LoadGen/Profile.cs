namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// How long and how hard each scenario runs: <see cref="Full"/> (the README's numbers) or <see cref="Smoke"/> (seconds).
/// <see cref="HeldStreamsH2"/> is the held count for Orchestrator with an HTTP/2 upstream (0: that row is not run):
/// it needs one socket per stream where the HTTP/1.1 targets need two, so it can hold more under the same open-file limit.
/// </summary>
public sealed record Profile(
    string Name,
    TimeSpan Warmup,
    TimeSpan Measure,
    int Rounds,
    int[] CompletionConcurrency,
    int UnpacedConcurrency,
    int PacedConcurrency,
    RequestShape PacedShape,
    TimeSpan PacedWarmup,
    TimeSpan PacedMeasure,
    double OpenRate,
    RequestShape OpenShape,
    TimeSpan OpenMeasure,
    int HeldStreams,
    int HeldStreamsH2,
    TimeSpan HeldRamp,
    TimeSpan HeldSettle,
    RequestShape HeldShape,
    TimeSpan Grace)
{
    public static readonly RequestShape Unpaced = new(Stream: true, Chunks: 50, PaceMs: 0);

    public static Profile Full(int heldStreams, int heldStreamsH2) => new(
        "full",
        Warmup: TimeSpan.FromSeconds(1), Measure: TimeSpan.FromSeconds(3), Rounds: 2,
        CompletionConcurrency: [1, 32, 256],
        UnpacedConcurrency: 32,
        PacedConcurrency: 1000, PacedShape: new RequestShape(true, 50, 20),
        PacedWarmup: TimeSpan.FromSeconds(3), PacedMeasure: TimeSpan.FromSeconds(6),
        OpenRate: 100, OpenShape: new RequestShape(true, 50, 20), OpenMeasure: TimeSpan.FromSeconds(5),
        HeldStreams: heldStreams, HeldStreamsH2: heldStreamsH2, HeldRamp: TimeSpan.FromSeconds(20), HeldSettle: TimeSpan.FromSeconds(6), HeldShape: new RequestShape(true, 30, 1000),
        Grace: TimeSpan.FromSeconds(60));

    public static Profile Smoke(int heldStreams, int heldStreamsH2) => new(
        "smoke",
        Warmup: TimeSpan.FromSeconds(0.2), Measure: TimeSpan.FromSeconds(0.4), Rounds: 1,
        CompletionConcurrency: [1, 32, 256],
        UnpacedConcurrency: 32,
        PacedConcurrency: 100, PacedShape: new RequestShape(true, 20, 20),
        PacedWarmup: TimeSpan.FromSeconds(0.4), PacedMeasure: TimeSpan.FromSeconds(0.8),
        OpenRate: 50, OpenShape: new RequestShape(true, 20, 20), OpenMeasure: TimeSpan.FromSeconds(0.8),
        HeldStreams: Math.Min(heldStreams, 200), HeldStreamsH2: Math.Min(heldStreamsH2, 200), HeldRamp: TimeSpan.FromSeconds(0.5), HeldSettle: TimeSpan.FromSeconds(0.2), HeldShape: new RequestShape(true, 4, 250),
        Grace: TimeSpan.FromSeconds(20));
}
