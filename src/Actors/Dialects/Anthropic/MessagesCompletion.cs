using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// A whole answer (the engine's <c>chat.completion</c> JSON) as an Anthropic <c>message</c>: content blocks in the
/// order Anthropic sends them (thinking, text, tool_use), <c>stop_reason</c> <c>tool_use</c> whenever a tool was
/// called, usage with <c>input_tokens</c> excluding cache reads and writes (OpenAI's <c>prompt_tokens</c> includes
/// them: subtracted here, never counted twice).
/// </summary>
public static class MessagesCompletion
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="model">The model the client asked for, which is what Anthropic answers with.</param>
    /// <param name="inputTokensEstimate">Reported, marked estimated, when the upstream sent no usage.</param>
    public static byte[] Translate(ReadOnlyMemory<byte> chatCompletion, string model, int inputTokensEstimate)
    {
        using var document = JsonDocument.Parse(chatCompletion);
        var root = document.RootElement;
        var message = default(JsonElement);
        string? finish = null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object) message = m;
            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
        }

        var buffer = new ArrayBufferWriter<byte>(chatCompletion.Length + 256);
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, MessagesEncoder.MessageId(String(root, "id") ?? ""));
            json.WriteString("type"u8, "message"u8);
            json.WriteString("role"u8, "assistant"u8);
            json.WriteString("model"u8, model);
            json.WriteStartArray("content"u8);
            var (calledTool, text, refused) = WriteContent(message, json);
            json.WriteEndArray();
            json.WriteString("stop_reason"u8, calledTool ? "tool_use" : finish switch
            {
                "length" => "max_tokens",
                "content_filter" => "refusal",
                "tool_calls" => "tool_use",
                _ => refused ? "refusal" : "end_turn",
            });
            json.WriteNull("stop_sequence"u8);
            WriteUsage(root, json, inputTokensEstimate, text);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static (bool CalledTool, int Characters, bool Refused) WriteContent(JsonElement message, Utf8JsonWriter json)
    {
        if (message.ValueKind != JsonValueKind.Object) return (false, 0, false);
        var characters = 0;
        var reasoning = String(message, "reasoning_content");
        var signature = String(message, "reasoning_signature");
        if (!string.IsNullOrEmpty(reasoning) || !string.IsNullOrEmpty(signature))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "thinking"u8);
            json.WriteString("thinking"u8, reasoning ?? "");
            json.WriteString("signature"u8, signature ?? "");
            json.WriteEndObject();
            characters += reasoning?.Length ?? 0;
        }

        // Anthropic has no refusal block: a refusal reads as text, and the stop reason says refusal.
        var refusal = String(message, "refusal");
        var text = String(message, "content");
        if (string.IsNullOrEmpty(text)) text = refusal;
        if (!string.IsNullOrEmpty(text))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "text"u8);
            json.WriteString("text"u8, text);
            json.WriteEndObject();
            characters += text.Length;
        }

        var calledTool = false;
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object) continue;
                calledTool = true;
                var arguments = String(function, "arguments") ?? "";
                characters += arguments.Length;
                json.WriteStartObject();
                json.WriteString("type"u8, "tool_use"u8);
                json.WriteString("id"u8, String(call, "id") ?? "");
                json.WriteString("name"u8, String(function, "name") ?? "");
                json.WritePropertyName("input"u8);
                WriteInput(arguments, json);
                json.WriteEndObject();
            }
        }
        return (calledTool, characters, !string.IsNullOrEmpty(refusal));
    }

    /// <summary>Anthropic's <c>input</c> is an object (<see cref="JsonBody.WriteObjectOrEmpty"/>).</summary>
    private static void WriteInput(string arguments, Utf8JsonWriter json) => JsonBody.WriteObjectOrEmpty(arguments, json);

    private static void WriteUsage(JsonElement root, Utf8JsonWriter json, int inputTokensEstimate, int outputCharacters)
    {
        int input, output, cacheRead = 0, cacheWrite = 0;
        var estimated = false;
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            input = Int(usage, "prompt_tokens");
            output = Int(usage, "completion_tokens");
            if (usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object)
            {
                cacheRead = Int(details, "cached_tokens");
                cacheWrite = Int(details, "cache_write_tokens");
            }
            estimated = usage.TryGetProperty("estimated", out var flag) && flag.ValueKind == JsonValueKind.True;
        }
        else
        {
            input = inputTokensEstimate;
            output = Math.Max(1, outputCharacters / 4);
            estimated = true;
        }
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, Math.Max(0, input - cacheRead - cacheWrite));
        json.WriteNumber("cache_creation_input_tokens"u8, cacheWrite);
        json.WriteNumber("cache_read_input_tokens"u8, cacheRead);
        json.WriteNumber("output_tokens"u8, output);
        if (estimated) json.WriteBoolean("estimated"u8, true);
        json.WriteEndObject();
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : 0;
}
