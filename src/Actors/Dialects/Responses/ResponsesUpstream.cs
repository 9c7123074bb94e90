using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// What a native Responses route (an openai-kind provider with <c>responses = on</c>) sends and reads: the client's
/// Responses body with only <c>model</c> and <c>stream</c> rewritten, every other field and item kept; a whole
/// answer's response object read into the engine's <c>chat.completion</c> (for billing and the transcript) while
/// the client gets the object itself.
/// </summary>
public static class ResponsesUpstream
{
    public static byte[] Write(NativeRequest native, string upstreamModel, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, upstreamModel);
            writer.WriteBoolean("stream"u8, stream);
            foreach (var property in native.Body.EnumerateObject())
            {
                if (property.NameEquals("model"u8) || property.NameEquals("stream"u8)) continue;
                property.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A Responses response object as the chat completion the engine reads: the text, the calls, the finish and the usage.</summary>
    public static byte[] ToChatCompletion(ReadOnlySpan<byte> response, string upstreamModel)
    {
        using var document = JsonDocument.Parse(response.ToArray());
        var root = document.RootElement;
        var text = new StringBuilder();
        var buffer = new ArrayBufferWriter<byte>(response.Length / 2 + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, String(root, "id") ?? "");
            writer.WriteString("object"u8, "chat.completion"u8);
            writer.WriteNumber("created"u8, root.TryGetProperty("created_at", out var created) && created.TryGetInt64(out var at) ? at : 0);
            writer.WriteString("model"u8, String(root, "model") ?? upstreamModel);
            writer.WriteStartArray("choices"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            var calls = 0;
            if (root.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in output.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object || String(item, "type") != "message" || !item.TryGetProperty("content", out var parts) || parts.ValueKind != JsonValueKind.Array) continue;
                    foreach (var part in parts.EnumerateArray())
                    {
                        if (part.ValueKind == JsonValueKind.Object && String(part, "type") == "output_text" && String(part, "text") is { } piece) text.Append(piece);
                    }
                }
                writer.WriteString("content"u8, text.ToString());
                foreach (var item in output.EnumerateArray())
                {
                    var type = item.ValueKind == JsonValueKind.Object ? String(item, "type") : null;
                    if (type is not ("function_call" or "custom_tool_call")) continue;
                    if (calls++ == 0) writer.WriteStartArray("tool_calls"u8);
                    writer.WriteStartObject();
                    writer.WriteString("id"u8, String(item, "call_id") ?? "");
                    writer.WriteString("type"u8, "function"u8);
                    writer.WriteStartObject("function"u8);
                    writer.WriteString("name"u8, String(item, "name") ?? "");
                    writer.WriteString("arguments"u8, type == "custom_tool_call" ? ResponsesInput.WrapCustomInput(String(item, "input") ?? "") : String(item, "arguments") ?? "{}");
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
                if (calls > 0) writer.WriteEndArray();
            }
            else writer.WriteString("content"u8, ""u8);
            writer.WriteEndObject();
            var incomplete = String(root, "status") == "incomplete";
            var reason = incomplete && root.TryGetProperty("incomplete_details", out var details) && details.ValueKind == JsonValueKind.Object ? String(details, "reason") : null;
            writer.WriteString("finish_reason"u8, incomplete ? (reason == "content_filter" ? "content_filter" : "length") : calls > 0 ? "tool_calls" : "stop");
            writer.WriteEndObject();
            writer.WriteEndArray();
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                var counts = ResponsesStreamDecoder.Usage(usage);
                writer.WriteStartObject("usage"u8);
                writer.WriteNumber("prompt_tokens"u8, counts.InputTokens);
                writer.WriteNumber("completion_tokens"u8, counts.OutputTokens);
                writer.WriteNumber("total_tokens"u8, counts.TotalTokens);
                writer.WriteStartObject("prompt_tokens_details"u8);
                writer.WriteNumber("cached_tokens"u8, counts.CacheReadTokens);
                writer.WriteEndObject();
                writer.WriteStartObject("completion_tokens_details"u8);
                writer.WriteNumber("reasoning_tokens"u8, counts.ReasoningTokens);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
