using System.Text.Json;
using Akka;
using Akka.IO;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Streams;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;
using Akka.Actor;

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

    /// <summary>
    /// The chunks a streamed body carries, read the way the answer stream reads it as far as its attempt can tell:
    /// the attempt hears the read start now and end with the stream.
    /// </summary>
    public static Source<ChatCompletionChunk, NotUsed> Chunks(StreamedBody body)
    {
        body.Attempt.Tell(BodyReadStarted.Instance);
        return Chunks(body.Source!).WatchTermination((_, done) =>
        {
            done.ContinueWith(t => body.Attempt.Tell(new BodyReadEnded(t.Exception?.GetBaseException())));
            return NotUsed.Instance;
        });
    }

    /// <summary>An answer stream of one block per chunk, as a segment would hand them on.</summary>
    public static Source<AnswerBlock, NotUsed> Answer(params ChatCompletionChunk[] chunks) =>
        Source.From(chunks.Select(c => new AnswerBlock(SseBytes.Event(c).ToArray())).ToList());

    public static ReadOnlyMemory<byte> Json(ChatCompletion completion) => JsonSerializer.SerializeToUtf8Bytes(completion, WireJson.Default.ChatCompletion);
}
