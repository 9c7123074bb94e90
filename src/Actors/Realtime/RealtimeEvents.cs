using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Realtime;

/// <summary>The server's events on <c>/v1/realtime</c>, written straight to UTF-8 JSON (one frame each).</summary>
public static class RealtimeEvents
{
    public static byte[] Chunk(string id, ChatCompletionChunk chunk) => Write(writer =>
    {
        writer.WriteString("type"u8, "chat.completions.chunk");
        writer.WriteString("id"u8, id);
        if (chunk.Choices.Count > 0)
        {
            writer.WritePropertyName("delta"u8);
            JsonSerializer.Serialize(writer, chunk.Choices[0].Delta, WireJson.Default.ChatDelta);
        }
        writer.WritePropertyName("chunk"u8);
        JsonSerializer.Serialize(writer, chunk, WireJson.Default.ChatCompletionChunk);
    });

    public static byte[] Done(string id, string? finishReason, Usage? usage) => Write(writer =>
    {
        writer.WriteString("type"u8, "chat.completions.done");
        writer.WriteString("id"u8, id);
        if (finishReason is null) writer.WriteNull("finish_reason"u8);
        else writer.WriteString("finish_reason"u8, finishReason);
        if (usage is not null)
        {
            writer.WritePropertyName("usage"u8);
            JsonSerializer.Serialize(writer, usage, WireJson.Default.Usage);
        }
    });

    /// <summary>An error event; <c>status</c> is the HTTP status the same error would have had (so a relay in front can classify it).</summary>
    public static byte[] Error(string? id, ApiError error) => Write(writer =>
    {
        writer.WriteString("type"u8, "error");
        if (id is null) writer.WriteNull("id"u8);
        else writer.WriteString("id"u8, id);
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, error.Message);
        writer.WriteString("type"u8, error.Type);
        if (error.Param is null) writer.WriteNull("param"u8);
        else writer.WriteString("param"u8, error.Param);
        if (error.Code is null) writer.WriteNull("code"u8);
        else writer.WriteString("code"u8, error.Code);
        writer.WriteNumber("status"u8, error.Status);
        writer.WriteEndObject();
    });

    public static byte[] SessionExpiring(TimeSpan reconnectAfter) => Write(writer =>
    {
        writer.WriteString("type"u8, "session.expiring");
        writer.WriteNumber("reconnect_after_ms"u8, (long)reconnectAfter.TotalMilliseconds);
    });

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
