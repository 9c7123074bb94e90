using System.Text.Json;
using Akka;
using Akka.IO;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Streams;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests;

/// <summary>Chunks to SSE bytes and back, for tests that feed or read the byte-level answer path.</summary>
internal static class TestSse
{
    /// <summary>An upstream body: one read per chunk.</summary>
    public static Source<ByteString, NotUsed> Body(params ChatCompletionChunk[] chunks) => Source.From(chunks.Select(SseBytes.Event).ToList());

    /// <summary>The chunks a body carries (<c>[DONE]</c> and non-JSON events are left out).</summary>
    public static Source<ChatCompletionChunk, NotUsed> Chunks(Source<ByteString, NotUsed> body) =>
        body.Via(SseFraming.Flow(1 << 20))
            .Where(e => !e.IsDone && !e.Data.IsEmpty)
            .Select(e => JsonSerializer.Deserialize(e.Data.Span, WireJson.Default.ChatCompletionChunk)!);

    /// <summary>An answer stream of one block per chunk, as a segment would hand them on.</summary>
    public static Source<AnswerBlock, NotUsed> Answer(params ChatCompletionChunk[] chunks) =>
        Source.From(chunks.Select(c => new AnswerBlock(SseBytes.Event(c).ToArray())).ToList());

    public static ReadOnlyMemory<byte> Json(ChatCompletion completion) => JsonSerializer.SerializeToUtf8Bytes(completion, WireJson.Default.ChatCompletion);
}
