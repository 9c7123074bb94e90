using System.Buffers;
using Orchestrator.Actors.Streams;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// One attempt's part of an answer stream, while <see cref="AnswerStream"/> reads it: the body, how it joins the
/// stream, and what has been seen of it. Touched only by the stage logic that owns it.
/// </summary>
internal sealed class Segment(StreamedBody body, SegmentPlan plan, SegmentLimits limits, int number, Transcript transcript)
{
    public StreamedBody Body { get; } = body;
    public SegmentPlan Plan { get; } = plan;
    public SegmentLimits Limits { get; } = limits;
    public int Number { get; } = number;
    public SseReader Reader { get; } = new(limits.MaxEventBytes);
    public ReplayMatcher? Replay { get; } = plan.ReplayText is { } text ? new ReplayMatcher(text) : null;

    /// <summary>A first attempt (no splice, nothing resumed before it) is passed through as the upstream's bytes.</summary>
    public bool PassThrough { get; } = !plan.Continuation && plan.Strategy is null && plan.ReplayText is null && transcript.Resumes.Count == 0;

    public CancellationTokenRegistration StopRegistration { get; set; }
    /// <summary>Chat chunks decoded from the current event, when the upstream speaks another dialect.</summary>
    public ArrayBufferWriter<byte>? Decoded { get; set; }
    public byte[] ReadBuffer { get; private set; } = [];

    /// <summary>A read is in flight: we wait on the upstream.</summary>
    public bool Reading { get; set; }
    public bool Closed { get; set; }
    /// <summary>What ends this segment once the events before it are out.</summary>
    public Exception? PendingFailure { get; set; }
    /// <summary>The answer is whole and nothing more will be read.</summary>
    public bool Ended { get; set; }
    /// <summary>The answer is whole (a finish_reason for every choice, or [DONE]).</summary>
    public bool Finished { get; set; }
    public bool GotToken { get; set; }
    public bool SawEvent { get; set; }
    public int QuietChecks { get; set; }
    public int ContentEvents { get; set; }

    /// <summary>What the upstream said this attempt used, when it sent a usage chunk.</summary>
    public UsageCounts? Usage { get; set; }
    /// <summary>The resume strategy was recorded in the transcript (once its first new chunk went out).</summary>
    public bool Recorded { get; set; }
    public ulong Choices { get; set; }
    public ulong FinishedChoices { get; set; }

    public void RentReadBuffer(int size)
    {
        if (ReadBuffer.Length > 0) return;
        ReadBuffer = ArrayPool<byte>.Shared.Rent(size);
        Body.Gauge?.Rented();
    }

    public void ReturnReadBuffer()
    {
        if (ReadBuffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(ReadBuffer);
        ReadBuffer = [];
        Body.Gauge?.Returned();
    }
}
