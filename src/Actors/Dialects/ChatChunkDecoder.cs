using System.Buffers;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// An upstream dialect's decoder as the answer stage uses it: each event decoded into canonical events, each of
/// those written as a chat chunk (<see cref="ChatChunkWriter"/>), so retry, resume and the end rules work
/// unchanged for every upstream kind. One per body.
/// </summary>
public sealed class ChatChunkDecoder(IAnswerDecoder inner) : IStreamDecoder
{
    private readonly List<AnswerEvent> _events = new(4);
    private readonly ChatChunkWriter _writer = new();

    public void Decode(ReadOnlySpan<byte> data, IBufferWriter<byte> payloads)
    {
        _events.Clear();
        inner.Decode(data, _events);
        foreach (var answerEvent in _events) _writer.Write(answerEvent, payloads);
    }
}
