using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// Writes canonical events as OpenAI <c>chat.completion.chunk</c> JSON, the form the engine's answer stream carries:
/// the role on a choice's first chunk, tool calls with their own index and the upstream's id on the first delta
/// (never <c>type</c> again on continuations), <c>"{}"</c> for a call that streamed no arguments, the finish
/// reason, and usage in a chunk of its own with no choices (as <c>include_usage</c> does). One per answer.
/// </summary>
public sealed class ChatChunkWriter
{
    private readonly Utf8JsonWriter _json = new(Stream.Null, new JsonWriterOptions { SkipValidation = true });
    private string _id = "";
    private string _model = "";
    private long _created;
    private ulong _roleSent;
    // Tool calls (choice, index) that streamed argument bytes / ended; few per answer, so a list beats a set.
    private readonly List<(int Choice, int Index, bool HasArguments, bool Ended)> _tools = [];

    /// <summary>Writes the chunks for <paramref name="answerEvent"/>, each followed by <c>\n</c>.</summary>
    public void Write(AnswerEvent answerEvent, IBufferWriter<byte> output)
    {
        switch (answerEvent)
        {
            case MessageStarted started:
                _id = started.Id;
                _model = started.Model;
                _created = started.Created;
                Role(0, output);
                break;
            case TextDelta text:
                Role(text.Choice, output);
                Delta(output, text.Choice, "content"u8, text.Text);
                break;
            case ThinkingDelta thinking:
                Role(thinking.Choice, output);
                Delta(output, thinking.Choice, "reasoning_content"u8, thinking.Text);
                break;
            case ThinkingSignature signature:
                Role(signature.Choice, output);
                Delta(output, signature.Choice, "reasoning_signature"u8, signature.Signature);
                break;
            case RefusalDelta refusal:
                Role(refusal.Choice, output);
                Delta(output, refusal.Choice, "refusal"u8, refusal.Text);
                break;
            case ToolCallStarted call:
                Role(call.Choice, output);
                _tools.Add((call.Choice, call.Index, false, false));
                ToolDelta(output, call.Choice, call.Index, call.Id, call.Name, "");
                break;
            case ToolArgumentsDelta arguments:
                if (arguments.Json.Length == 0) break;
                Mark(arguments.Choice, arguments.Index, hasArguments: true, ended: false);
                ToolDelta(output, arguments.Choice, arguments.Index, null, null, arguments.Json);
                break;
            case ToolCallEnded ended:
                EndTool(output, ended.Choice, ended.Index);
                break;
            case Finished finished:
                for (var i = 0; i < _tools.Count; i++)
                {
                    if (_tools[i].Choice == finished.Choice && !_tools[i].Ended) EndTool(output, finished.Choice, _tools[i].Index);
                }
                Role(finished.Choice, output);
                Finish(output, finished.Choice, finished.Reason);
                break;
            case UsageReported usage:
                Usage(output, usage.Usage);
                break;
            case AnswerFailed failed:
                Error(output, failed);
                break;
        }
    }

    private void Role(int choice, IBufferWriter<byte> output)
    {
        var bit = 1UL << Math.Min(choice, 63);
        if ((_roleSent & bit) != 0) return;
        _roleSent |= bit;
        var json = Begin(output, choice);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("content"u8, ""u8);
        End(output, null);
    }

    private void Delta(IBufferWriter<byte> output, int choice, ReadOnlySpan<byte> field, string value)
    {
        var json = Begin(output, choice);
        json.WriteString(field, value);
        End(output, null);
    }

    private void ToolDelta(IBufferWriter<byte> output, int choice, int index, string? id, string? name, string arguments)
    {
        var json = Begin(output, choice);
        json.WriteStartArray("tool_calls"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, index);
        if (id is not null)
        {
            json.WriteString("id"u8, id);
            json.WriteString("type"u8, "function"u8);
        }
        json.WriteStartObject("function"u8);
        if (name is not null) json.WriteString("name"u8, name);
        json.WriteString("arguments"u8, arguments);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        End(output, null);
    }

    private void EndTool(IBufferWriter<byte> output, int choice, int index)
    {
        var at = _tools.FindIndex(t => t.Choice == choice && t.Index == index);
        if (at < 0 || _tools[at].Ended) return;
        // A call with no arguments still has an arguments object: clients parse "{}", an empty string breaks them.
        if (!_tools[at].HasArguments) ToolDelta(output, choice, index, null, null, "{}");
        _tools[at] = _tools[at] with { HasArguments = true, Ended = true };
    }

    private void Mark(int choice, int index, bool hasArguments, bool ended)
    {
        var at = _tools.FindIndex(t => t.Choice == choice && t.Index == index);
        if (at >= 0) _tools[at] = _tools[at] with { HasArguments = _tools[at].HasArguments || hasArguments, Ended = _tools[at].Ended || ended };
    }

    private void Finish(IBufferWriter<byte> output, int choice, FinishReason reason)
    {
        Begin(output, choice);
        End(output, reason switch
        {
            FinishReason.Length => "length",
            FinishReason.ToolCalls => "tool_calls",
            FinishReason.ContentFilter => "content_filter",
            _ => "stop",
        });
    }

    private void Usage(IBufferWriter<byte> output, TokenUsage usage)
    {
        var json = Envelope(output);
        json.WriteStartArray("choices"u8);
        json.WriteEndArray();
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, usage.InputTokens);
        json.WriteNumber("completion_tokens"u8, usage.OutputTokens);
        json.WriteNumber("total_tokens"u8, usage.TotalTokens);
        json.WriteStartObject("prompt_tokens_details"u8);
        json.WriteNumber("cached_tokens"u8, usage.CacheReadTokens);
        if (usage.CacheWriteTokens > 0) json.WriteNumber("cache_write_tokens"u8, usage.CacheWriteTokens);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details"u8);
        json.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
        json.WriteEndObject();
        if (usage.Estimated) json.WriteBoolean("estimated"u8, true);
        json.WriteEndObject();
        json.WriteEndObject();
        Line(output);
    }

    private void Error(IBufferWriter<byte> output, AnswerFailed failed)
    {
        var json = Envelope(output);
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, failed.Error.Message);
        json.WriteString("type"u8, failed.Error.Type);
        if (failed.Error.Code is { } code) json.WriteString("code"u8, code);
        json.WriteNumber("status"u8, failed.Error.Status);
        json.WriteEndObject();
        json.WriteEndObject();
        Line(output);
    }

    private Utf8JsonWriter Envelope(IBufferWriter<byte> output)
    {
        _json.Reset(output);
        _json.WriteStartObject();
        _json.WriteString("id"u8, _id);
        _json.WriteString("object"u8, "chat.completion.chunk"u8);
        _json.WriteNumber("created"u8, _created);
        _json.WriteString("model"u8, _model);
        return _json;
    }

    /// <summary>Opens <c>{..., "choices":[{"index":c,"delta":{</c>.</summary>
    private Utf8JsonWriter Begin(IBufferWriter<byte> output, int choice)
    {
        var json = Envelope(output);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, choice);
        json.WriteStartObject("delta"u8);
        return json;
    }

    /// <summary>Closes what <see cref="Begin"/> opened, with the finish reason (OpenAI writes null until the end).</summary>
    private void End(IBufferWriter<byte> output, string? finishReason)
    {
        _json.WriteEndObject();
        if (finishReason is null) _json.WriteNull("finish_reason"u8);
        else _json.WriteString("finish_reason"u8, finishReason);
        _json.WriteEndObject();
        _json.WriteEndArray();
        _json.WriteEndObject();
        Line(output);
    }

    private void Line(IBufferWriter<byte> output)
    {
        _json.Flush();
        output.Write("\n"u8);
    }
}
