using System.Buffers;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// An answer on its way to a front that speaks another dialect: each block's chat chunks read into canonical events
/// (<see cref="ChatChunkReader"/>) and handed to the front's <see cref="IAnswerEncoder"/>. One per response; used
/// by one stream stage at a time.
/// </summary>
public sealed class FrontTranslator(IAnswerEncoder encoder)
{
    private readonly ChatChunkReader _reader = new();
    private readonly List<AnswerEvent> _events = new(4);

    public IAnswerEncoder Encoder => encoder;

    /// <summary>Malformed chunks passed over (the engine has already skipped what it could not read; this counts the rest).</summary>
    public int Skipped { get; private set; }

    public void Write(AnswerBlock block, IBufferWriter<byte> output)
    {
        foreach (var payload in block.Payloads())
        {
            _events.Clear();
            if (!_reader.Read(payload, _events))
            {
                Skipped++;
                continue;
            }
            foreach (var answerEvent in _events) encoder.Encode(answerEvent, output);
        }
    }
}
