using System.Text.Json;
using Orchestrator.Messages.Api;

namespace Orchestrator.Messages.Chat;

/// <summary>
/// A piece of a streamed answer exactly as an OpenAI chat-completions client gets it: whole Server-Sent Events,
/// each <c>data: {chunk}\n\n</c> with the chunk JSON on one line, usually every event of one upstream read. On a
/// first attempt the chunk JSON is the upstream's own bytes; only a resumed or retried stream carries rewritten
/// chunks. The HTTP edge writes <see cref="Sse"/> as it is; other consumers read the chunks with <see cref="Payloads"/>.
/// </summary>
public sealed class AnswerBlock(ReadOnlyMemory<byte> sse)
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    public ReadOnlyMemory<byte> Sse { get; } = sse;

    /// <summary>
    /// The upstream's own events behind <see cref="Sse"/> (<c>event: type\ndata: json\n\n</c>), when it answered a
    /// native request in the client's dialect on a first attempt (<see cref="Upstream.StreamedBody.KeepsNative"/>);
    /// null otherwise. A front of that dialect writes these rather than re-encoding the chunks.
    /// </summary>
    public ReadOnlyMemory<byte>? Native { get; init; }

    /// <summary>When the upstream read these events came from completed (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>; 0: not measured).</summary>
    public long ReadAt { get; init; }

    /// <summary>The chunk JSON of each event, in order.</summary>
    public PayloadEnumerator Payloads() => new(Sse.Span);

    /// <summary>The chunks as objects, for consumers that need them (the edge never does).</summary>
    public List<ChatCompletionChunk> ReadChunks()
    {
        var chunks = new List<ChatCompletionChunk>(4);
        foreach (var payload in Payloads())
            chunks.Add(JsonSerializer.Deserialize(payload, WireJson.Default.ChatCompletionChunk)!);
        return chunks;
    }

    public override string ToString() => $"AnswerBlock({Sse.Length} bytes)";   // never the text

    public ref struct PayloadEnumerator(ReadOnlySpan<byte> rest)
    {
        private ReadOnlySpan<byte> _rest = rest;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly PayloadEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                var end = _rest.IndexOf("\n\n"u8);
                var line = end < 0 ? _rest : _rest[..end];
                _rest = end < 0 ? default : _rest[(end + 2)..];
                if (!line.StartsWith(DataPrefix)) continue;   // a comment
                Current = line[DataPrefix.Length..];
                return true;
            }
            return false;
        }
    }
}
