using System.Buffers;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// A front dialect's stream writer: canonical events in, that dialect's SSE bytes out (whole events, ready for the
/// wire). One instance per response. The edge calls <see cref="Encode"/> for every event, then exactly one of
/// <see cref="Complete"/> (the answer is whole) or <see cref="Fail"/> (it is not, and the client must be able to tell).
/// </summary>
public interface IAnswerEncoder
{
    void Encode(AnswerEvent answerEvent, IBufferWriter<byte> output);

    /// <summary>The end of a whole answer (OpenAI: <c>data: [DONE]</c>; Anthropic: close what is open, <c>message_stop</c>).</summary>
    void Complete(IBufferWriter<byte> output);

    /// <summary>A failure after the response started: an error event, and nothing that would pass for a whole answer.</summary>
    void Fail(ApiError error, IBufferWriter<byte> output);

    /// <summary>
    /// The end of a whole answer whose events went to the client as the upstream sent them (<paramref name="lastNative"/>:
    /// the last of them): whatever the dialect still needs after the event the engine ended on (Anthropic's
    /// <c>message_stop</c>, which follows the <c>message_delta</c> that finishes the answer). Nothing by default.
    /// </summary>
    void CompleteNative(ReadOnlySpan<byte> lastNative, IBufferWriter<byte> output)
    {
    }

    /// <summary>What a quiet stream sends to stay alive (an SSE comment, or Anthropic's <c>event: ping</c> once the message has started).</summary>
    ReadOnlySpan<byte> KeepAlive { get; }
}
