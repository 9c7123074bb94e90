using System.Buffers;

namespace Orchestrator.Messages.Upstream;

/// <summary>
/// Turns an upstream's stream events, when it speaks a dialect other than OpenAI chat, into the engine's stream
/// form: OpenAI <c>chat.completion.chunk</c> JSON payloads (or <c>[DONE]</c>). One per body (it keeps the
/// stream's state), called from the answer stage only.
/// </summary>
public interface IStreamDecoder
{
    /// <summary>
    /// Decodes one SSE event's data into zero or more payloads, each written on its own line (ended by <c>\n</c>;
    /// a payload never contains a line break).
    /// </summary>
    void Decode(ReadOnlySpan<byte> data, IBufferWriter<byte> payloads);
}
