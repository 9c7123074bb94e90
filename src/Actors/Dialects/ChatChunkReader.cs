using System.Text.Json;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// Reads the engine's chat chunks back into canonical events, for fronts that speak another dialect: the first
/// chunk starts the message, tool calls are started at their first delta (id and name) and ended when the next
/// call of the choice starts or the choice finishes, usage is read with its details. One per answer.
/// <para>Reads the extensions other relays use as well: <c>reasoning</c> beside <c>reasoning_content</c>, DeepSeek's
/// <c>prompt_cache_hit_tokens</c> beside <c>prompt_tokens_details.cached_tokens</c>.</para>
/// </summary>
public sealed class ChatChunkReader
{
    private bool _started;
    // The open tool call of each choice (its index), -1 when none.
    private readonly Dictionary<int, int> _openTool = [];

    /// <summary>False when <paramref name="chunk"/> is not a chunk (the event is skipped).</summary>
    public bool Read(ReadOnlySpan<byte> chunk, List<AnswerEvent> events)
    {
        if (chunk.SequenceEqual("[DONE]"u8)) return true;
        try
        {
            var reader = new Utf8JsonReader(chunk);
            Read(JsonElement.ParseValue(ref reader), events);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    private void Read(JsonElement root, List<AnswerEvent> events)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new JsonException("a chunk is an object");
        if (!_started)
        {
            _started = true;
            events.Add(new MessageStarted(String(root, "id") ?? "", String(root, "model") ?? "", root.TryGetProperty("created", out var created) && created.TryGetInt64(out var at) ? at : 0));
        }
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray()) ReadChoice(choice, events);
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object) events.Add(new UsageReported(Usage(usage)));
    }

    private void ReadChoice(JsonElement choice, List<AnswerEvent> events)
    {
        var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
        if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            if ((String(delta, "reasoning_content") ?? String(delta, "reasoning")) is { Length: > 0 } thinking) events.Add(new ThinkingDelta(index, thinking));
            if (String(delta, "reasoning_signature") is { Length: > 0 } signature) events.Add(new ThinkingSignature(index, signature));
            if (String(delta, "content") is { Length: > 0 } text) events.Add(new TextDelta(index, text));
            if (String(delta, "refusal") is { Length: > 0 } refusal) events.Add(new RefusalDelta(index, refusal));
            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray()) ReadToolCall(index, call, events);
            }
        }
        if (String(choice, "finish_reason") is { } finish)
        {
            EndTool(index, events);
            events.Add(new Finished(index, finish switch
            {
                "length" => FinishReason.Length,
                "tool_calls" or "function_call" => FinishReason.ToolCalls,
                "content_filter" => FinishReason.ContentFilter,
                _ => FinishReason.Stop,
            }));
        }
    }

    private void ReadToolCall(int choice, JsonElement call, List<AnswerEvent> events)
    {
        var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        var open = _openTool.GetValueOrDefault(choice, -1);
        if (index != open)
        {
            EndTool(choice, events);
            _openTool[choice] = index;
            var name = function.ValueKind == JsonValueKind.Object ? String(function, "name") : null;
            events.Add(new ToolCallStarted(choice, index, String(call, "id") ?? "", name ?? ""));
        }
        if (function.ValueKind == JsonValueKind.Object && String(function, "arguments") is { Length: > 0 } arguments)
            events.Add(new ToolArgumentsDelta(choice, index, arguments));
    }

    private void EndTool(int choice, List<AnswerEvent> events)
    {
        if (!_openTool.TryGetValue(choice, out var open) || open < 0) return;
        _openTool[choice] = -1;
        events.Add(new ToolCallEnded(choice, open));
    }

    internal static TokenUsage Usage(JsonElement usage)
    {
        var prompt = Int(usage, "prompt_tokens");
        var cached = usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object ? Int(details, "cached_tokens") : 0;
        var cacheWrite = details.ValueKind == JsonValueKind.Object ? Int(details, "cache_write_tokens") : 0;
        if (cached == 0) cached = Int(usage, "prompt_cache_hit_tokens");
        var reasoning = usage.TryGetProperty("completion_tokens_details", out var completion) && completion.ValueKind == JsonValueKind.Object ? Int(completion, "reasoning_tokens") : 0;
        var estimated = usage.TryGetProperty("estimated", out var e) && e.ValueKind == JsonValueKind.True;
        return new TokenUsage(prompt, Int(usage, "completion_tokens"), cached, cacheWrite, reasoning, estimated);
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : 0;
}
