using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// A whole (non-streamed) answer for a Responses client: the engine's <c>chat.completion</c> read as canonical
/// events and built into the response object by the same encoder that streams, so both forms carry the same items,
/// ids and usage.
/// </summary>
public static class ResponsesCompletion
{
    /// <summary>The response object for <paramref name="completion"/>, or null when it is not a chat completion we can read.</summary>
    /// <param name="inputTokensEstimate">The request's input, estimated: reported, marked as an estimate, when the completion has no usage.</param>
    public static byte[]? Translate(ReadOnlySpan<byte> completion, ResponseEcho echo, long createdAt, int inputTokensEstimate = 0, string? idBase = null, ResponsesToolMap? tools = null)
    {
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(completion);
            root = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return null;
        }
        if (root.ValueKind != JsonValueKind.Object) return null;

        var encoder = new ResponsesEncoder(echo, createdAt, idBase, silent: true, tools);
        var output = new ArrayBufferWriter<byte>(completion.Length + 1024);
        var sawUsage = false;
        var outputCharacters = 0;
        foreach (var answerEvent in Events(root))
        {
            sawUsage |= answerEvent is UsageReported;
            outputCharacters += answerEvent switch
            {
                TextDelta t => t.Text.Length,
                ThinkingDelta t => t.Text.Length,
                RefusalDelta r => r.Text.Length,
                ToolArgumentsDelta a => a.Json.Length,
                _ => 0,
            };
            encoder.Encode(answerEvent, output);
        }
        // Never zero tokens for an answer delivered: about four characters a token, marked as an estimate.
        if (!sawUsage) encoder.Encode(new UsageReported(new TokenUsage(inputTokensEstimate, Math.Max(1, outputCharacters / 4), Estimated: true)), output);
        encoder.WriteFinal(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The first choice's message in the order a stream would have told it: reasoning, text, refusal, calls, finish, usage.</summary>
    private static IEnumerable<AnswerEvent> Events(JsonElement root)
    {
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
            && choices[0] is { ValueKind: JsonValueKind.Object } choice)
        {
            if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                if ((String(message, "reasoning_content") ?? String(message, "reasoning")) is { Length: > 0 } thinking) yield return new ThinkingDelta(0, thinking);
                if (String(message, "reasoning_signature") is { Length: > 0 } signature) yield return new ThinkingSignature(0, signature);
                if (String(message, "content") is { Length: > 0 } text) yield return new TextDelta(0, text);
                if (String(message, "refusal") is { Length: > 0 } refusal) yield return new RefusalDelta(0, refusal);
                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    var index = 0;
                    foreach (var call in calls.EnumerateArray())
                    {
                        if (call.ValueKind != JsonValueKind.Object) continue;
                        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
                        var name = function.ValueKind == JsonValueKind.Object ? String(function, "name") : null;
                        yield return new ToolCallStarted(0, index, String(call, "id") ?? "", name ?? "");
                        if (function.ValueKind == JsonValueKind.Object && String(function, "arguments") is { Length: > 0 } arguments)
                            yield return new ToolArgumentsDelta(0, index, arguments);
                        yield return new ToolCallEnded(0, index);
                        index++;
                    }
                }
            }
            if (String(choice, "finish_reason") is { } finish)
            {
                yield return new Finished(0, finish switch
                {
                    "length" => FinishReason.Length,
                    "tool_calls" or "function_call" => FinishReason.ToolCalls,
                    "content_filter" => FinishReason.ContentFilter,
                    _ => FinishReason.Stop,
                });
            }
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object) yield return new UsageReported(ChatChunkReader.Usage(usage));
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
