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

    /// <summary>False when <paramref name="chunk"/> is not a chunk (the event is skipped, with nothing of it read).</summary>
    public bool Read(ReadOnlySpan<byte> chunk, List<AnswerEvent> events)
    {
        if (chunk.SequenceEqual("[DONE]"u8)) return true;
        var before = events.Count;
        try
        {
            Scan(chunk, events);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            events.RemoveRange(before, events.Count - before);
            return false;
        }
    }

    // One pass with Utf8JsonReader, no document: this runs for every event of every translated stream. Fields are
    // taken in any order; a choice's events are made once the choice object has been read whole.
    private void Scan(ReadOnlySpan<byte> chunk, List<AnswerEvent> events)
    {
        var reader = new Utf8JsonReader(chunk);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a chunk is an object");
        var first = events.Count;
        var starting = !_started;
        string? id = null, model = null;
        long created = 0;
        TokenUsage? usage = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("choices is an array");
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) ScanChoice(ref reader, events);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) usage = Usage(JsonElement.ParseValue(ref reader));
                else reader.Skip();
            }
            else if (starting && reader.ValueTextEquals("id"u8)) id = NextString(ref reader);
            else if (starting && reader.ValueTextEquals("model"u8)) model = NextString(ref reader);
            else if (starting && reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var at)) created = at;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (starting)
        {
            _started = true;
            events.Insert(first, new MessageStarted(id ?? "", model ?? "", created));
        }
        if (usage is not null) events.Add(new UsageReported(usage));
    }

    private void ScanChoice(ref Utf8JsonReader reader, List<AnswerEvent> events)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a choice is an object");
        var index = 0;
        string? text = null, thinking = null, signature = null, refusal = null, finish = null;
        List<(int Index, string? Id, string? Name, string? Arguments)>? calls = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number) reader.TryGetInt32(out index);
            }
            else if (reader.ValueTextEquals("finish_reason"u8)) finish = NextString(ref reader);
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("content"u8)) text = NextString(ref reader);
                    else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8)) thinking = NextString(ref reader) ?? thinking;
                    else if (reader.ValueTextEquals("reasoning_signature"u8)) signature = NextString(ref reader);
                    else if (reader.ValueTextEquals("refusal"u8)) refusal = NextString(ref reader);
                    else if (reader.ValueTextEquals("tool_calls"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartArray)
                        {
                            reader.Skip();
                            continue;
                        }
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) (calls ??= []).Add(ScanToolCall(ref reader));
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (thinking is { Length: > 0 }) events.Add(new ThinkingDelta(index, thinking));
        if (signature is { Length: > 0 }) events.Add(new ThinkingSignature(index, signature));
        if (text is { Length: > 0 }) events.Add(new TextDelta(index, text));
        if (refusal is { Length: > 0 }) events.Add(new RefusalDelta(index, refusal));
        if (calls is not null)
        {
            foreach (var call in calls) ToolCall(index, call.Index, call.Id, call.Name, call.Arguments, events);
        }
        if (finish is not null)
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

    private static (int Index, string? Id, string? Name, string? Arguments) ScanToolCall(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a tool call is an object");
        int index = 0;
        string? id = null, name = null, arguments = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number) reader.TryGetInt32(out index);
            }
            else if (reader.ValueTextEquals("id"u8)) id = NextString(ref reader);
            else if (reader.ValueTextEquals("function"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8)) name = NextString(ref reader);
                    else if (reader.ValueTextEquals("arguments"u8)) arguments = NextString(ref reader);
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return (index, id, name, arguments);
    }

    /// <summary>The next value as a string; null (and skipped) when it is not one.</summary>
    private static string? NextString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }

    private void ToolCall(int choice, int index, string? id, string? name, string? arguments, List<AnswerEvent> events)
    {
        var open = _openTool.GetValueOrDefault(choice, -1);
        if (index != open)
        {
            EndTool(choice, events);
            _openTool[choice] = index;
            events.Add(new ToolCallStarted(choice, index, id ?? "", name ?? ""));
        }
        if (arguments is { Length: > 0 }) events.Add(new ToolArgumentsDelta(choice, index, arguments));
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

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : 0;
}
