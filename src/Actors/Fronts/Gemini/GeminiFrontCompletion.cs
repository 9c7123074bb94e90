using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>
/// A whole answer (the engine's <c>chat.completion</c> JSON) as one Gemini <c>GenerateContentResponse</c>: a
/// candidate per choice with its parts in the order Gemini sends them (thought, text, functionCall), the
/// <c>thoughtSignature</c> on the first call (else the text), the finishReason in Gemini's words, and usageMetadata.
/// </summary>
public static class GeminiFrontCompletion
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="model">The model the client asked for, which is what the answer names.</param>
    /// <param name="inputTokensEstimate">Reported, as the prompt count, when the upstream sent no usage.</param>
    public static byte[] Translate(ReadOnlyMemory<byte> chatCompletion, string model, int inputTokensEstimate)
    {
        using var document = JsonDocument.Parse(chatCompletion);
        var root = document.RootElement;
        var buffer = new ArrayBufferWriter<byte>(chatCompletion.Length + 256);
        long characters = 0;
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("candidates"u8);
            if (root.TryGetProperty("choices"u8, out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                var position = 0;
                foreach (var choice in choices.EnumerateArray())
                {
                    var index = choice.TryGetProperty("index"u8, out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var n) ? n : position;
                    position++;
                    characters += WriteCandidate(choice, index, json);
                }
            }
            json.WriteEndArray();
            GeminiEncoder.WriteUsage(json, Usage(root) ?? new TokenUsage(Math.Max(1, inputTokensEstimate), (int)Math.Max(1, characters / 4), Estimated: true));
            json.WriteString("modelVersion"u8, model);
            json.WriteString("responseId"u8, String(root, "id") ?? "");
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static long WriteCandidate(JsonElement choice, int index, Utf8JsonWriter json)
    {
        long characters = 0;
        var message = choice.TryGetProperty("message"u8, out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var signature = message.ValueKind == JsonValueKind.Object ? String(message, "reasoning_signature") : null;
        var calls = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls"u8, out var c) && c.ValueKind == JsonValueKind.Array ? c : default;
        var hasCalls = calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0;

        json.WriteStartObject();
        json.WriteStartObject("content"u8);
        json.WriteString("role"u8, "model"u8);
        json.WriteStartArray("parts"u8);
        if (message.ValueKind == JsonValueKind.Object)
        {
            if (String(message, "reasoning_content") is { Length: > 0 } reasoning)
            {
                characters += reasoning.Length;
                json.WriteStartObject();
                json.WriteString("text"u8, reasoning);
                json.WriteBoolean("thought"u8, true);
                json.WriteEndObject();
            }
            var text = String(message, "content") is { Length: > 0 } content ? content : String(message, "refusal");
            if (!string.IsNullOrEmpty(text))
            {
                characters += text.Length;
                json.WriteStartObject();
                json.WriteString("text"u8, text);
                if (!hasCalls && signature is not null) json.WriteString("thoughtSignature"u8, signature);
                json.WriteEndObject();
            }
            else if (!hasCalls && signature is not null)
            {
                json.WriteStartObject();
                json.WriteString("text"u8, ""u8);
                json.WriteString("thoughtSignature"u8, signature);
                json.WriteEndObject();
            }
            if (hasCalls)
            {
                var first = true;
                foreach (var call in calls.EnumerateArray())
                {
                    if (!call.TryGetProperty("function"u8, out var function) || function.ValueKind != JsonValueKind.Object) continue;
                    var arguments = String(function, "arguments") ?? "";
                    characters += arguments.Length;
                    json.WriteStartObject();
                    json.WriteStartObject("functionCall"u8);
                    json.WriteString("name"u8, String(function, "name") ?? "");
                    json.WritePropertyName("args"u8);
                    GeminiEncoder.WriteArguments(arguments, json);
                    json.WriteEndObject();
                    if (first && signature is not null) json.WriteString("thoughtSignature"u8, signature);
                    first = false;
                    json.WriteEndObject();
                }
            }
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteString("finishReason"u8, String(choice, "finish_reason") switch
        {
            "length" => "MAX_TOKENS",
            "content_filter" => "SAFETY",
            _ => "STOP",
        });
        json.WriteNumber("index"u8, index);
        json.WriteEndObject();
        return characters;
    }

    /// <summary>The chat usage in the canonical convention (prompt includes cached; completion includes reasoning).</summary>
    private static TokenUsage? Usage(JsonElement root)
    {
        if (!root.TryGetProperty("usage"u8, out var usage) || usage.ValueKind != JsonValueKind.Object) return null;
        var cached = 0;
        if (usage.TryGetProperty("prompt_tokens_details"u8, out var prompt) && prompt.ValueKind == JsonValueKind.Object) cached = Int(prompt, "cached_tokens");
        var reasoning = 0;
        if (usage.TryGetProperty("completion_tokens_details"u8, out var completion) && completion.ValueKind == JsonValueKind.Object) reasoning = Int(completion, "reasoning_tokens");
        var estimated = usage.TryGetProperty("estimated"u8, out var flag) && flag.ValueKind == JsonValueKind.True;
        return new TokenUsage(Int(usage, "prompt_tokens"), Int(usage, "completion_tokens"), cached, ReasoningTokens: reasoning, Estimated: estimated);
    }

    private static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : 0;
}
