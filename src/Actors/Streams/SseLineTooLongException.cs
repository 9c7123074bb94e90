namespace Orchestrator.Actors.Streams;

/// <summary>
/// The upstream sent an SSE line, or an event whose data lines add up, longer than the configured cap. The
/// upstream's fault: the framing stage fails rather than buffer without bound.
/// </summary>
public sealed class SseLineTooLongException(int maxLineBytes)
    : Exception($"The upstream sent an SSE line or event longer than the {maxLineBytes}-byte limit.")
{
    public int MaxLineBytes { get; } = maxLineBytes;
}
