namespace Orchestrator.Actors.Streams;

/// <summary>
/// One dispatched server-sent event. <see cref="Data"/> is the event's data lines joined with LF, still UTF-8
/// bytes: decoding (or JSON parsing) is the consumer's business, once per event.
/// </summary>
/// <param name="EventType">The last <c>event</c> field's value, or <c>"message"</c> when there was none.</param>
/// <param name="Data">A fresh array per event, so it may outlive the stage that produced it.</param>
/// <param name="LastEventId">The last <c>id</c> seen on the stream so far, not only in this event (SSE spec).</param>
/// <param name="RetryMs">The last valid <c>retry</c> seen on the stream so far, in milliseconds.</param>
public sealed record SseEvent(string EventType, ReadOnlyMemory<byte> Data, string? LastEventId, int? RetryMs)
{
    /// <summary>True for OpenAI's end-of-stream sentinel, <c>data: [DONE]</c>; the framing itself does not act on it.</summary>
    public bool IsDone => Data.Span.SequenceEqual("[DONE]"u8);
}
