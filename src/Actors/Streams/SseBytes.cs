using System.Buffers;
using System.Text.Json;
using Akka.IO;
using Orchestrator.Messages.Api;

namespace Orchestrator.Actors.Streams;

/// <summary>Chunks written as an OpenAI <c>text/event-stream</c> body, for upstreams that make their answers in-process.</summary>
public static class SseBytes
{
    public static readonly ByteString Done = ByteString.FromBytes("data: [DONE]\n\n"u8.ToArray());

    /// <summary><c>data: {chunk}\n\n</c>.</summary>
    public static ByteString Event(ChatCompletionChunk chunk)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, chunk, WireJson.Default.ChatCompletionChunk);
        }
        buffer.Write("\n\n"u8);
        return ByteString.FromBytes(buffer.WrittenSpan.ToArray());
    }
}
