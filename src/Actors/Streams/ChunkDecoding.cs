using System.Text.Json;
using Akka;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;

namespace Orchestrator.Actors.Streams;

/// <summary>
/// SSE events from an OpenAI-compatible upstream to chunks: <c>[DONE]</c> ends the stream, an event whose data
/// is an error object or not JSON fails it with <see cref="UpstreamProtocolException"/> (that request only).
/// </summary>
public static class ChunkDecoding
{
    public static Flow<SseEvent, ChatCompletionChunk, NotUsed> Flow() =>
        Akka.Streams.Dsl.Flow.Create<SseEvent>()
            .TakeWhile(e => !e.IsDone)
            .Where(e => !e.Data.IsEmpty)
            .Select(Decode)
            .Named("chunk-decoding");

    public static ChatCompletionChunk Decode(SseEvent sseEvent)
    {
        ChatCompletionChunk? chunk;
        try
        {
            chunk = JsonSerializer.Deserialize(sseEvent.Data.Span, WireJson.Default.ChatCompletionChunk);
        }
        catch (JsonException)
        {
            throw new UpstreamProtocolException("the upstream sent a stream event that is not valid JSON");
        }
        if (chunk is null) throw new UpstreamProtocolException("the upstream sent an empty stream event");
        if (chunk.Extra is { } extra && extra.TryGetValue("error", out var error))
            throw new UpstreamProtocolException("the upstream reported an error mid-stream" + Describe(error));
        return chunk;
    }

    private static string Describe(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
            ? $" ({code.GetString()})"
            : "";
}
