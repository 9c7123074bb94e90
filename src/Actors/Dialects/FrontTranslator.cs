using System.Buffers;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// An answer on its way to a front that speaks another dialect: each block's chat chunks read into canonical events
/// (<see cref="ChatChunkReader"/>) and handed to the front's <see cref="IAnswerEncoder"/>. One per response; used
/// by one stream stage at a time. An answer whose upstream sent no usage gets an estimate at its end, marked as
/// such: a front never reports zero tokens for an answer it delivered. A block is encoded into a buffer of its own
/// and handed to the output in one write: an encoder writes each event in several small pieces, and each piece is a
/// call into the response pipe otherwise.
/// <para>
/// With <paramref name="writesNative"/> (a front whose dialect an upstream may answer in natively), a block that
/// carries the upstream's own events (<see cref="AnswerBlock.Native"/>) is written as they came, and the answer
/// ends with the upstream's own last event. The encoder still reads every block, so that when a later attempt's
/// blocks come without them (a retry or resume, spliced in chat form) it carries on from where the answer is.
/// </para>
/// </summary>
public sealed class FrontTranslator(IAnswerEncoder encoder, int inputTokensEstimate = 0, bool writesNative = false)
{
    /// <summary>Past this, the block buffer is given back after the block rather than kept for the next.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    private bool _sawUsage;
    private int _outputEvents;
    private readonly ChatChunkReader _reader = new();
    private readonly List<AnswerEvent> _events = new(4);
    private ArrayBufferWriter<byte> _block = new(1024);
    private bool _native = writesNative;
    private bool _wroteNative;
    private ReadOnlyMemory<byte> _lastNative;

    public IAnswerEncoder Encoder => encoder;

    /// <summary>Malformed chunks passed over (the engine has already skipped what it could not read; this counts the rest).</summary>
    public int Skipped { get; private set; }

    public void Write(AnswerBlock block, IBufferWriter<byte> output)
    {
        _block.ResetWrittenCount();
        Encode(block, _block);
        if (_native && block.Native is { } upstreamEvents)
        {
            output.Write(upstreamEvents.Span);
            _wroteNative = true;
            _lastNative = upstreamEvents;
        }
        else if (_native && _wroteNative && _block.WrittenCount == 0)
        {
            // Nothing for the client (the relay's own usage estimate): the upstream's events stay the whole answer.
        }
        else
        {
            _native = false;
            output.Write(_block.WrittenSpan);
        }
        if (_block.Capacity > KeptBufferBytes) _block = new ArrayBufferWriter<byte>(1024);
    }

    private void Encode(AnswerBlock block, IBufferWriter<byte> output)
    {
        foreach (var payload in block.Payloads())
        {
            _events.Clear();
            if (!_reader.Read(payload, _events))
            {
                Skipped++;
                continue;
            }
            foreach (var answerEvent in _events)
            {
                if (answerEvent is UsageReported) _sawUsage = true;
                else if (answerEvent is TextDelta or ThinkingDelta or ToolArgumentsDelta or RefusalDelta) _outputEvents++;
                encoder.Encode(answerEvent, output);
            }
        }
    }

    /// <summary>The answer is whole: usage (estimated if the upstream sent none), then the encoder's end.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_native && _wroteNative)
        {
            // The upstream's own events were the answer; the engine stops reading at the one that finishes it.
            encoder.CompleteNative(_lastNative.Span, output);
            return;
        }
        // A stream event carries about one token; the estimate is marked, never passed off as a count.
        if (!_sawUsage) encoder.Encode(new UsageReported(new TokenUsage(inputTokensEstimate, _outputEvents, Estimated: true)), output);
        encoder.Complete(output);
    }
}
