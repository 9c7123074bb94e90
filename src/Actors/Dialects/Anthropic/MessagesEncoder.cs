using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// Writes the canonical answer as Anthropic's Messages stream, in the exact order clients depend on:
/// <code>
///   message_start
///   (content_block_start, content_block_delta*, content_block_stop)*   one block open at a time, index counting up
///   message_delta                                                      stop_reason + usage, held until the end
///   message_stop                                                       last; a failure sends event: error instead
/// </code>
/// Traps other relays fell into, each avoided here: a thinking delta while text is open closes the text block
/// first (a <c>thinking_delta</c> inside a text block breaks clients); tool input streams only as
/// <c>input_json_delta</c> (Claude Code ignores <c>content_block_start.input</c>), <c>"{}"</c> for a call with no
/// argument bytes; <c>stop_reason</c> is <c>tool_use</c> whenever a tool was called, even after text; every block
/// is closed and <c>message_stop</c> comes last (a missing one hangs Claude Code); <c>message_start</c> usage is the
/// prompt estimate, never 0/0. Only choice 0 is written: Anthropic has no <c>n</c>.
/// </summary>
public sealed class MessagesEncoder(string model, int inputTokensEstimate) : IAnswerEncoder
{
    private enum Block { None, Text, Thinking, ToolUse }

    // Valid JSON that keeps non-ASCII text as UTF-8 instead of \uXXXX (a third of the bytes for most scripts);
    // the stream is never embedded in HTML.
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _model = model;
    private readonly int _inputEstimate = Math.Max(1, inputTokensEstimate);
    private Utf8JsonWriter? _json;
    private bool _started;
    private Block _open;
    private int _openIndex;
    private int _nextIndex;
    private int _openTool;
    private bool _openToolHasArguments;
    private bool _signed;
    private bool _calledTool;
    private bool _refused;
    private FinishReason? _finish;
    private TokenUsage? _usage;
    private long _outputCharacters;

    private static ReadOnlySpan<byte> Ping => "event: ping\ndata: {\"type\":\"ping\"}\n\n"u8;
    private static ReadOnlySpan<byte> Comment => ": keep-alive\n\n"u8;

    /// <summary>Anthropic's own keep-alive once the message has started; before that an SSE comment, which no client reads as an event.</summary>
    public ReadOnlySpan<byte> KeepAlive => _started ? Ping : Comment;

    public void Encode(AnswerEvent answerEvent, IBufferWriter<byte> output)
    {
        switch (answerEvent)
        {
            case MessageStarted started:
                if (!_started) Start(started.Id, output);
                break;
            case TextDelta { Choice: 0 } text:
                WriteText(text.Text, output);
                break;
            case RefusalDelta { Choice: 0 } refusal:
                // Anthropic has no refusal block: the words read as text, and the stop reason says refusal.
                _refused = true;
                WriteText(refusal.Text, output);
                break;
            case ThinkingDelta { Choice: 0 } thinking:
                WriteThinking(thinking.Text, output);
                break;
            case ThinkingSignature { Choice: 0 } signature:
                WriteSignature(signature.Signature, output);
                break;
            case ToolCallStarted { Choice: 0 } call:
                StartTool(call, output);
                break;
            case ToolArgumentsDelta { Choice: 0 } arguments:
                // Blocks cannot interleave, so only the open call streams; OpenAI-shaped streams send one call at a time.
                if (_open != Block.ToolUse || _openTool != arguments.Index || arguments.Json.Length == 0) break;
                _openToolHasArguments = true;
                _outputCharacters += arguments.Json.Length;
                WriteDelta(output, "input_json_delta"u8, "partial_json"u8, arguments.Json);
                break;
            case ToolCallEnded { Choice: 0 } ended:
                if (_open == Block.ToolUse && _openTool == ended.Index) CloseBlock(output);
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case Finished { Choice: 0 } finished:
                // message_delta waits for Complete: usage comes after the finish in OpenAI-shaped streams.
                _finish = finished.Reason;
                EnsureStarted(output);
                CloseBlock(output);
                break;
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        EnsureStarted(output);
        CloseBlock(output);

        var json = Begin(output, "message_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_delta"u8);
        json.WriteStartObject("delta"u8);
        json.WriteString("stop_reason"u8, StopReason());
        json.WriteNull("stop_sequence"u8);
        json.WriteEndObject();
        WriteUsage(json, _usage ?? new TokenUsage(_inputEstimate, (int)Math.Max(1, _outputCharacters / 4), Estimated: true), 0);
        json.WriteEndObject();
        End(output);

        Begin(output, "message_stop"u8);
        _json!.WriteStartObject();
        _json.WriteString("type"u8, "message_stop"u8);
        _json.WriteEndObject();
        End(output);
    }

    /// <summary>The upstream's events were the answer: its <c>message_stop</c>, when the engine ended before reading it.</summary>
    public void CompleteNative(ReadOnlySpan<byte> lastNative, IBufferWriter<byte> output)
    {
        if (lastNative.IndexOf("\"message_stop\""u8) >= 0) return;
        output.Write("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"u8);
    }

    /// <summary>An error event and nothing after it: without <c>message_stop</c> no client takes the cut answer for a whole one.</summary>
    public void Fail(ApiError error, IBufferWriter<byte> output)
    {
        MessagesErrors.Write(error, Begin(output, "error"u8));
        End(output);
    }

    private string StopReason()
    {
        if (_calledTool) return "tool_use";
        return _finish switch
        {
            FinishReason.Length => "max_tokens",
            FinishReason.ContentFilter => "refusal",
            FinishReason.ToolCalls => "tool_use",
            _ => _refused ? "refusal" : "end_turn",
        };
    }

    private void EnsureStarted(IBufferWriter<byte> output)
    {
        if (!_started) Start("", output);
    }

    private void Start(string upstreamId, IBufferWriter<byte> output)
    {
        _started = true;
        var json = Begin(output, "message_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_start"u8);
        json.WriteStartObject("message"u8);
        json.WriteString("id"u8, MessageId(upstreamId));
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, _model);
        json.WriteStartArray("content"u8);
        json.WriteEndArray();
        json.WriteNull("stop_reason"u8);
        json.WriteNull("stop_sequence"u8);
        // Anthropic reports the prompt here and one output token; before the upstream's count, ours, labelled.
        WriteUsage(json, _usage ?? new TokenUsage(_inputEstimate, 1, Estimated: true), 1);
        json.WriteEndObject();
        json.WriteEndObject();
        End(output);
    }

    /// <summary>Anthropic ids start <c>msg_</c>; the upstream's own id is kept inside it, so logs on both sides match.</summary>
    public static string MessageId(string upstreamId)
    {
        if (upstreamId.StartsWith("msg_", StringComparison.Ordinal)) return upstreamId;
        if (upstreamId.StartsWith("chatcmpl-", StringComparison.Ordinal)) upstreamId = upstreamId["chatcmpl-".Length..];
        return upstreamId.Length == 0 ? $"msg_{Guid.NewGuid():N}" : $"msg_{upstreamId}";
    }

    /// <param name="outputOverride">message_start's output count (1), or 0 to report the usage's own.</param>
    private static void WriteUsage(Utf8JsonWriter json, TokenUsage usage, int outputOverride)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, usage.UncachedInputTokens);
        json.WriteNumber("cache_creation_input_tokens"u8, usage.CacheWriteTokens);
        json.WriteNumber("cache_read_input_tokens"u8, usage.CacheReadTokens);
        json.WriteNumber("output_tokens"u8, outputOverride > 0 ? outputOverride : usage.OutputTokens);
        if (usage.Estimated) json.WriteBoolean("estimated"u8, true);
        json.WriteEndObject();
    }

    private void WriteText(string text, IBufferWriter<byte> output)
    {
        if (text.Length == 0) return;
        if (_open != Block.Text) OpenBlock(Block.Text, output);
        _outputCharacters += text.Length;
        WriteDelta(output, "text_delta"u8, "text"u8, text);
    }

    private void WriteThinking(string text, IBufferWriter<byte> output)
    {
        if (text.Length == 0) return;
        // A signature seals its block: more thinking after it is a new block.
        if (_open != Block.Thinking || _signed) OpenBlock(Block.Thinking, output);
        _outputCharacters += text.Length;
        WriteDelta(output, "thinking_delta"u8, "thinking"u8, text);
    }

    private void WriteSignature(string signature, IBufferWriter<byte> output)
    {
        if (_open != Block.Thinking || _signed) OpenBlock(Block.Thinking, output);
        _signed = true;
        WriteDelta(output, "signature_delta"u8, "signature"u8, signature);
    }

    private void StartTool(ToolCallStarted call, IBufferWriter<byte> output)
    {
        EnsureStarted(output);
        CloseBlock(output);
        _calledTool = true;
        _open = Block.ToolUse;
        _openIndex = _nextIndex++;
        _openTool = call.Index;
        _openToolHasArguments = false;
        var json = Begin(output, "content_block_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_start"u8);
        json.WriteNumber("index"u8, _openIndex);
        json.WriteStartObject("content_block"u8);
        json.WriteString("type"u8, "tool_use"u8);
        json.WriteString("id"u8, call.Id);
        json.WriteString("name"u8, call.Name);
        json.WriteStartObject("input"u8);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
        End(output);
    }

    private void OpenBlock(Block block, IBufferWriter<byte> output)
    {
        EnsureStarted(output);
        CloseBlock(output);
        _open = block;
        _openIndex = _nextIndex++;
        _signed = false;
        var json = Begin(output, "content_block_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_start"u8);
        json.WriteNumber("index"u8, _openIndex);
        json.WriteStartObject("content_block"u8);
        if (block == Block.Text)
        {
            json.WriteString("type"u8, "text"u8);
            json.WriteString("text"u8, ""u8);
        }
        else
        {
            json.WriteString("type"u8, "thinking"u8);
            json.WriteString("thinking"u8, ""u8);
            json.WriteString("signature"u8, ""u8);
        }
        json.WriteEndObject();
        json.WriteEndObject();
        End(output);
    }

    private void CloseBlock(IBufferWriter<byte> output)
    {
        if (_open == Block.None) return;
        // A tool input is a JSON object; a call that streamed no argument bytes still needs one.
        if (_open == Block.ToolUse && !_openToolHasArguments) WriteDelta(output, "input_json_delta"u8, "partial_json"u8, "{}");
        var json = Begin(output, "content_block_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_stop"u8);
        json.WriteNumber("index"u8, _openIndex);
        json.WriteEndObject();
        End(output);
        _open = Block.None;
    }

    private void WriteDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, string value)
    {
        var json = Begin(output, "content_block_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_delta"u8);
        json.WriteNumber("index"u8, _openIndex);
        json.WriteStartObject("delta"u8);
        json.WriteString("type"u8, type);
        json.WriteString(field, value);
        json.WriteEndObject();
        json.WriteEndObject();
        End(output);
    }

    /// <summary>Starts <c>event: NAME\ndata: </c>; one JSON writer serves every event of the response.</summary>
    private Utf8JsonWriter Begin(IBufferWriter<byte> output, ReadOnlySpan<byte> eventName)
    {
        output.Write("event: "u8);
        output.Write(eventName);
        output.Write("\ndata: "u8);
        if (_json is null) _json = new Utf8JsonWriter(output, JsonOptions);
        else _json.Reset(output);
        return _json;
    }

    private void End(IBufferWriter<byte> output)
    {
        _json!.Flush();
        output.Write("\n\n"u8);
    }
}
