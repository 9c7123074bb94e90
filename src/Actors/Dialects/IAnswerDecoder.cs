using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// An upstream dialect's stream reader: one SSE event's data in, canonical events out. One instance per answer
/// (it keeps what the stream said so far: open blocks, tool indexes, cumulative usage); never throws for a bad
/// event (it skips what it cannot read); never sees the bytes after the stream's end.
/// </summary>
public interface IAnswerDecoder
{
    void Decode(ReadOnlySpan<byte> data, List<AnswerEvent> events);
}
