using System.Text.Json;
using Akka;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;

namespace Orchestrator.Actors.Streams;

/// <summary>
/// SSE events from an OpenAI-compatible upstream to chunks. <c>[DONE]</c> becomes <see cref="Done"/>; an event that
/// is not JSON becomes <see cref="Skipped"/> and is counted (one bad event must not cost the whole answer); an
/// error object mid-stream fails the stream with <see cref="UpstreamProtocolException"/> (that request only).
/// </summary>
public static class ChunkDecoding
{
    /// <summary>Stands for <c>data: [DONE]</c>: the provider said the answer is whole. Never sent to a client.</summary>
    public static readonly ChatCompletionChunk Done = new() { Id = "[DONE]" };

    /// <summary>An event that carried no chunk (empty, or not JSON): consumers pass over it.</summary>
    public static readonly ChatCompletionChunk Skipped = new() { Id = "skipped" };

    public static Flow<SseEvent, ChatCompletionChunk, NotUsed> Flow(UpstreamMeters? meters = null) =>
        // One stage, not three: every stage costs at materialization, once per request (README, Performance).
        // The answer-segment stage ends the stream at Done and passes over Skipped.
        Akka.Streams.Dsl.Flow.Create<SseEvent>()
            .Select(e => e.IsDone ? Done : TryDecode(e, meters))
            .Named("chunk-decoding");

    private static ChatCompletionChunk TryDecode(SseEvent sseEvent, UpstreamMeters? meters)
    {
        if (sseEvent.Data.IsEmpty) return Skipped;
        try
        {
            return Decode(sseEvent);
        }
        catch (JsonException)
        {
            meters?.EventSkipped();
            return Skipped;
        }
    }

    /// <summary>Throws <see cref="JsonException"/> for data that is not a chunk, and the protocol exception for an error object.</summary>
    public static ChatCompletionChunk Decode(SseEvent sseEvent)
    {
        var chunk = JsonSerializer.Deserialize(sseEvent.Data.Span, WireJson.Default.ChatCompletionChunk)
            ?? throw new JsonException("the upstream sent a null stream event");
        if (chunk.Extra is { } extra && extra.TryGetValue("error", out var error))
            throw new UpstreamProtocolException("the upstream reported an error mid-stream" + Describe(error));
        return chunk;
    }

    private static string Describe(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
            ? $" ({code.GetString()})"
            : "";
}
