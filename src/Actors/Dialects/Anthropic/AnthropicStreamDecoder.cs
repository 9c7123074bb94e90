using System.Text.Json;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// Reads an Anthropic Messages stream (each SSE event's <c>data:</c>, whose JSON carries its <c>type</c>) into canonical
/// events: <c>message_start</c> starts the message and holds the input usage, content blocks become text, thinking
/// (and its signature) or tool calls numbered from 0 in the order they start, <c>message_delta</c> finishes the
/// choice and then reports the usage so far, <c>event: error</c> fails the answer. One per answer.
/// <para>
/// Deltas are most of a stream, so <c>content_block_delta</c> is read straight off the bytes; the few other events
/// are parsed whole. Anthropic's usage is cumulative and its <c>input_tokens</c> excludes the cache: the usage
/// reported counts every input token (<see cref="TokenUsage"/>).
/// </para>
/// </summary>
/// <param name="outputTool">The tool that carries a structured answer (<see cref="AnthropicRequest.OutputTool"/>): its input is the answer's text.</param>
public sealed class AnthropicStreamDecoder(TimeProvider? time = null, string? outputTool = null) : IAnswerDecoder
{
    private enum BlockKind { Text, Thinking, ToolUse, Output, Other }

    private bool _answeredByOutputTool;

    // Content blocks by their stream index: what each is and, for a tool call, its tool index. Few per answer.
    private readonly List<(int Block, BlockKind Kind, int Tool)> _blocks = [];
    private int _tools;
    private int _input;
    private int _cacheRead;
    private int _cacheWrite;
    private int _output;

    public void Decode(ReadOnlySpan<byte> data, List<AnswerEvent> events)
    {
        try
        {
            if (TryDelta(data, events)) return;
            var reader = new Utf8JsonReader(data);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return;
            switch (String(root, "type"))
            {
                case "message_start":
                    MessageStart(root, events);
                    break;
                case "content_block_start":
                    BlockStart(root, events);
                    break;
                case "content_block_delta":
                    if (root.TryGetProperty("delta"u8, out var delta) && delta.ValueKind == JsonValueKind.Object)
                        Delta(Int(root, "index"), String(delta, "type"), delta, events);
                    break;
                case "content_block_stop":
                    BlockStop(Int(root, "index"), events);
                    break;
                case "message_delta":
                    MessageDelta(root, events);
                    break;
                case "error":
                    var error = root.TryGetProperty("error"u8, out var e) && e.ValueKind == JsonValueKind.Object ? String(e, "type") : null;
                    events.Add(new AnswerFailed(AnthropicStopReason.StreamError(error)));
                    break;
                // message_stop (the finish came with message_delta), ping, and types added later: nothing to say.
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // IAnswerDecoder: a bad event is skipped, never thrown.
        }
    }

    // ---- content_block_delta, off the bytes -------------------------------------------------------------------

    /// <summary>
    /// Reads <c>{"type":"content_block_delta","index":N,"delta":{"type":...,"text"|"partial_json"|"thinking"|"signature":...}}</c>
    /// with a reader; false (nothing added) for any other event or shape, which the whole-document path then reads.
    /// </summary>
    private bool TryDelta(ReadOnlySpan<byte> data, List<AnswerEvent> events)
    {
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("type"u8)) return false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("content_block_delta"u8)) return false;
        int? index = null;
        string? deltaType = null;
        string? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                if (!reader.Read() || !reader.TryGetInt32(out var n)) return false;
                index = n;
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isType = reader.ValueTextEquals("type"u8);
                    var isValue = reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("partial_json"u8)
                        || reader.ValueTextEquals("thinking"u8) || reader.ValueTextEquals("signature"u8);
                    if (!reader.Read()) return false;
                    if (isType && reader.TokenType == JsonTokenType.String) deltaType = reader.GetString();
                    else if (isValue && reader.TokenType == JsonTokenType.String) value ??= reader.GetString();
                    else if (isType || isValue) return false;
                    else reader.Skip();
                }
                if (reader.TokenType != JsonTokenType.EndObject) return false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || index is null || deltaType is null) return false;
        DeltaValue(index.Value, deltaType, value ?? "", events);
        return true;
    }

    private void Delta(int block, string? type, JsonElement delta, List<AnswerEvent> events)
    {
        var value = type switch
        {
            "text_delta" => String(delta, "text"),
            "input_json_delta" => String(delta, "partial_json"),
            "thinking_delta" => String(delta, "thinking"),
            "signature_delta" => String(delta, "signature"),
            _ => null,
        };
        if (type is not null) DeltaValue(block, type, value ?? "", events);
    }

    private void DeltaValue(int block, string type, string value, List<AnswerEvent> events)
    {
        if (value.Length == 0) return;
        switch (type)
        {
            case "text_delta":
                events.Add(new TextDelta(0, value));
                break;
            case "input_json_delta" when Find(block) is { Kind: BlockKind.ToolUse } tool:
                events.Add(new ToolArgumentsDelta(0, tool.Tool, value));
                break;
            case "input_json_delta" when Find(block) is { Kind: BlockKind.Output }:
                events.Add(new TextDelta(0, value));
                break;
            case "thinking_delta":
                events.Add(new ThinkingDelta(0, value));
                break;
            case "signature_delta":
                events.Add(new ThinkingSignature(0, value));
                break;
            // citations_delta and later kinds have no canonical form.
        }
    }

    // ---- the other events -------------------------------------------------------------------------------------

    private void MessageStart(JsonElement root, List<AnswerEvent> events)
    {
        if (!root.TryGetProperty("message"u8, out var message) || message.ValueKind != JsonValueKind.Object) return;
        var now = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        events.Add(new MessageStarted(String(message, "id") ?? "", String(message, "model") ?? "", now));
        if (message.TryGetProperty("usage"u8, out var usage) && usage.ValueKind == JsonValueKind.Object) ReadUsage(usage);
    }

    private void BlockStart(JsonElement root, List<AnswerEvent> events)
    {
        if (!root.TryGetProperty("content_block"u8, out var block) || block.ValueKind != JsonValueKind.Object) return;
        var index = Int(root, "index");
        switch (String(block, "type"))
        {
            case "text":
                _blocks.Add((index, BlockKind.Text, -1));
                if (String(block, "text") is { Length: > 0 } text) events.Add(new TextDelta(0, text));
                break;
            case "thinking":
                _blocks.Add((index, BlockKind.Thinking, -1));
                if (String(block, "thinking") is { Length: > 0 } thinking) events.Add(new ThinkingDelta(0, thinking));
                break;
            case "tool_use" when outputTool is not null && String(block, "name") == outputTool:
                _blocks.Add((index, BlockKind.Output, -1));
                _answeredByOutputTool = true;
                if (block.TryGetProperty("input"u8, out var answer) && answer.ValueKind == JsonValueKind.Object && answer.EnumerateObject().Any())
                    events.Add(new TextDelta(0, answer.GetRawText()));
                break;
            case "tool_use":
                var tool = _tools++;
                _blocks.Add((index, BlockKind.ToolUse, tool));
                events.Add(new ToolCallStarted(0, tool, String(block, "id") ?? "", String(block, "name") ?? ""));
                // The API streams the input as input_json_delta and starts with {}; a non-empty start is sent on.
                if (block.TryGetProperty("input"u8, out var input) && input.ValueKind == JsonValueKind.Object && input.EnumerateObject().Any())
                    events.Add(new ToolArgumentsDelta(0, tool, input.GetRawText()));
                break;
            default:
                // redacted_thinking, server tool blocks: nothing a chat chunk can carry.
                _blocks.Add((index, BlockKind.Other, -1));
                break;
        }
    }

    private void BlockStop(int index, List<AnswerEvent> events)
    {
        if (Find(index) is { Kind: BlockKind.ToolUse } tool) events.Add(new ToolCallEnded(0, tool.Tool));
    }

    private void MessageDelta(JsonElement root, List<AnswerEvent> events)
    {
        var stopReason = root.TryGetProperty("delta"u8, out var delta) && delta.ValueKind == JsonValueKind.Object ? String(delta, "stop_reason") : null;
        var finish = AnthropicStopReason.ToFinishReason(stopReason);
        // The forced output tool's "tool_use" stop is the answer ending as text does.
        if (finish == FinishReason.ToolCalls && _answeredByOutputTool && _tools == 0) finish = FinishReason.Stop;
        events.Add(new Finished(0, finish));
        if (root.TryGetProperty("usage"u8, out var usage) && usage.ValueKind == JsonValueKind.Object) ReadUsage(usage);
        events.Add(new UsageReported(new TokenUsage(_input + _cacheRead + _cacheWrite, _output, _cacheRead, _cacheWrite)));
    }

    /// <summary>Cumulative counts: a field present replaces what an earlier event said, an absent one keeps it.</summary>
    private void ReadUsage(JsonElement usage)
    {
        _input = IntOr(usage, "input_tokens", _input);
        _cacheRead = IntOr(usage, "cache_read_input_tokens", _cacheRead);
        _cacheWrite = IntOr(usage, "cache_creation_input_tokens", _cacheWrite);
        _output = IntOr(usage, "output_tokens", _output);
    }

    private (int Block, BlockKind Kind, int Tool)? Find(int block)
    {
        for (var i = _blocks.Count - 1; i >= 0; i--)
        {
            if (_blocks[i].Block == block) return _blocks[i];
        }
        return null;
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement obj, string name) => IntOr(obj, name, 0);

    private static int IntOr(JsonElement obj, string name, int fallback) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : fallback;
}
