using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// Canonical events as the OpenAI Responses stream: <c>event: &lt;type&gt;\ndata: {json}\n\n</c>, every event
/// with its <c>type</c> and a <c>sequence_number</c> counting from 0. The documented order:
/// <code>
/// response.created, response.in_progress
///   per item: response.output_item.added
///     message:       content_part.added, output_text.delta* (or refusal.delta*), output_text.done, content_part.done
///     reasoning:     content_part.added, reasoning_text.delta*, reasoning_text.done, content_part.done
///     function call: function_call_arguments.delta*, function_call_arguments.done
///     custom call:   custom_tool_call_input.delta*, custom_tool_call_input.done
///   response.output_item.done
/// response.completed | response.incomplete (max_output_tokens, content_filter) | response.failed
/// </code>
/// Items never interleave: a new kind of content closes the open item, and <c>output_index</c> counts the items.
/// A function call's <c>call_id</c> is the upstream's tool call id, unchanged; its name is the client's again
/// (<see cref="ResponsesToolMap"/>: a namespaced tool's call says its <c>namespace</c>, a custom tool's call is a
/// <c>custom_tool_call</c> whose input streams as the string inside the arguments JSON is decoded,
/// <see cref="CustomInputReader"/>). Only choice 0 is written (a
/// Responses request cannot ask for more). The last event carries the whole response with its usage.
/// One per response; also builds the non-streamed response object (<see cref="ResponsesCompletion"/>).
/// </summary>
public sealed class ResponsesEncoder : IAnswerEncoder
{
    private static ReadOnlySpan<byte> KeepAliveComment => ": keep-alive\n\n"u8;

    private readonly ResponseEcho _echo;
    private readonly long _createdAt;
    private readonly string _idBase;
    private readonly bool _silent;
    private readonly ResponsesToolMap _tools;
    private readonly Utf8JsonWriter _json = new(Stream.Null, new JsonWriterOptions { SkipValidation = true });
    private readonly List<ResponseOutputItem> _items = [];
    private ResponseOutputItem? _open;
    private TokenUsage? _usage;
    private FinishReason? _finish;
    private bool _started;
    private int _sequence;

    /// <param name="echo">The request's settings, repeated in every response object.</param>
    /// <param name="createdAt">When the request came in (Unix seconds): the response's <c>created_at</c>.</param>
    /// <param name="idBase">The hex that makes this response's ids (<c>resp_…</c>, <c>msg_…</c>); random when null.</param>
    /// <param name="tools">The request's tools under their chat names, to answer each call in the client's form.</param>
    public ResponsesEncoder(ResponseEcho echo, long createdAt, string? idBase = null, ResponsesToolMap? tools = null)
        : this(echo, createdAt, idBase, silent: false, tools)
    {
    }

    internal ResponsesEncoder(ResponseEcho echo, long createdAt, string? idBase, bool silent, ResponsesToolMap? tools = null)
    {
        _tools = tools ?? ResponsesToolMap.Empty;
        _echo = echo;
        _createdAt = createdAt;
        _idBase = idBase ?? Guid.NewGuid().ToString("N");
        _silent = silent;
        ResponseId = "resp_" + _idBase;
    }

    public string ResponseId { get; }

    public ReadOnlySpan<byte> KeepAlive => KeepAliveComment;

    public void Encode(AnswerEvent answerEvent, IBufferWriter<byte> output)
    {
        switch (answerEvent)
        {
            case MessageStarted:
                Start(output);
                break;
            case TextDelta { Choice: 0 } text:
                Start(output);
                AppendToMessage(output, "output_text", text.Text);
                break;
            case RefusalDelta { Choice: 0 } refusal:
                Start(output);
                AppendToMessage(output, "refusal", refusal.Text);
                break;
            case ThinkingDelta { Choice: 0 } thinking:
                Start(output);
                AppendReasoning(output, thinking.Text);
                break;
            case ThinkingSignature { Choice: 0 } signature:
                Start(output);
                // The signature seals the reasoning just streamed; one without reasoning text (redacted) gets an item of its own.
                var sealedItem = _open is { Kind: ResponseOutputItem.ItemKind.Reasoning } ? _open : _items.FindLast(i => i.Kind == ResponseOutputItem.ItemKind.Reasoning);
                (sealedItem ?? OpenItem(output, ResponseOutputItem.Reasoning("rs_" + ItemSuffix(), _items.Count))).Signature = signature.Signature;
                break;
            case ToolCallStarted { Choice: 0 } call:
                Start(output);
                if (FindCall(call.Index) is not null) break;   // already announced
                var tool = _tools.ByChatName(call.Name);
                OpenItem(output, tool is { Kind: ResponsesToolMap.ToolKind.Custom }
                    ? ResponseOutputItem.CustomToolCall("ctc_" + ItemSuffix(), _items.Count, call.Index, call.Id, tool.Name, tool.Namespace)
                    : ResponseOutputItem.FunctionCall("fc_" + ItemSuffix(), _items.Count, call.Index, call.Id, tool?.Name ?? call.Name, tool?.Namespace));
                break;
            case ToolArgumentsDelta { Choice: 0 } arguments:
                if (arguments.Json.Length == 0 || FindCall(arguments.Index) is not { } target) break;
                target.Arguments.Append(arguments.Json);
                if (target.Kind == ResponseOutputItem.ItemKind.CustomToolCall)
                {
                    if (target.CustomInput.Read(target.Arguments) is { Length: > 0 } piece) WriteInputDelta(output, target, piece);
                    break;
                }
                if (Begin(output, "response.function_call_arguments.delta"u8))
                {
                    _json.WriteString("item_id"u8, target.Id);
                    _json.WriteNumber("output_index"u8, target.OutputIndex);
                    _json.WriteString("delta"u8, arguments.Json);
                    End(output);
                }
                break;
            case ToolCallEnded { Choice: 0 } ended:
                if (FindCall(ended.Index) is { } done) Close(output, done);
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case Finished { Choice: 0 } finished:
                _finish = finished.Reason;
                CloseAll(output);
                break;
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        Start(output);
        CloseAll(output);
        var incomplete = IncompleteReason;
        var type = incomplete is null ? "response.completed"u8 : "response.incomplete"u8;
        if (!Begin(output, type)) return;
        _json.WritePropertyName("response"u8);
        WriteResponse(_json, incomplete is null ? "completed" : "incomplete", null);
        End(output);
    }

    public void Fail(ApiError error, IBufferWriter<byte> output)
    {
        Start(output);
        // What was cut stays in the output as incomplete; no .done event pretends it is whole.
        foreach (var item in _items)
        {
            if (!item.Done) item.Status = "incomplete";
        }
        _open = null;
        if (!Begin(output, "response.failed"u8)) return;
        _json.WritePropertyName("response"u8);
        WriteResponse(_json, "failed", error);
        End(output);
    }

    /// <summary>The whole response object as <c>response.completed</c> would carry it (the non-streamed answer).</summary>
    internal void WriteFinal(IBufferWriter<byte> output)
    {
        CloseAll(output);
        _json.Reset(output);
        WriteResponse(_json, IncompleteReason is null ? "completed" : "incomplete", null);
        _json.Flush();
    }

    private string? IncompleteReason => _finish switch
    {
        FinishReason.Length => "max_output_tokens",
        FinishReason.ContentFilter => "content_filter",
        _ => null,
    };

    private void Start(IBufferWriter<byte> output)
    {
        if (_started) return;
        _started = true;
        if (Begin(output, "response.created"u8))
        {
            _json.WritePropertyName("response"u8);
            WriteResponse(_json, "in_progress", null);
            End(output);
        }
        if (Begin(output, "response.in_progress"u8))
        {
            _json.WritePropertyName("response"u8);
            WriteResponse(_json, "in_progress", null);
            End(output);
        }
    }

    private void AppendToMessage(IBufferWriter<byte> output, string partType, string text)
    {
        var message = _open is { Kind: ResponseOutputItem.ItemKind.Message } open ? open : OpenItem(output, ResponseOutputItem.Message("msg_" + ItemSuffix(), _items.Count));
        var part = message.Parts.Count > 0 && message.Parts[^1].Type == partType ? message.Parts[^1] : OpenPart(output, message, partType);
        part.Text.Append(text);
        if (!Begin(output, partType == "refusal" ? "response.refusal.delta"u8 : "response.output_text.delta"u8)) return;
        WritePartAddress(message);
        _json.WriteString("delta"u8, text);
        if (partType == "output_text") EmptyLogprobs();
        End(output);
    }

    private void AppendReasoning(IBufferWriter<byte> output, string text)
    {
        var item = _open is { Kind: ResponseOutputItem.ItemKind.Reasoning } open ? open : OpenItem(output, ResponseOutputItem.Reasoning("rs_" + ItemSuffix(), _items.Count));
        var part = item.Parts.Count > 0 ? item.Parts[^1] : OpenPart(output, item, "reasoning_text");
        part.Text.Append(text);
        if (!Begin(output, "response.reasoning_text.delta"u8)) return;
        WritePartAddress(item);
        _json.WriteString("delta"u8, text);
        End(output);
    }

    /// <summary>Closes whatever is open and announces <paramref name="item"/> as the next output item.</summary>
    private ResponseOutputItem OpenItem(IBufferWriter<byte> output, ResponseOutputItem item)
    {
        if (_open is { } open) Close(output, open);
        _items.Add(item);
        _open = item;
        if (Begin(output, "response.output_item.added"u8))
        {
            _json.WriteNumber("output_index"u8, item.OutputIndex);
            _json.WritePropertyName("item"u8);
            item.Write(_json, withContent: false);
            End(output);
        }
        return item;
    }

    private ResponseOutputItem.Part OpenPart(IBufferWriter<byte> output, ResponseOutputItem item, string type)
    {
        if (item.Parts.Count > 0) ClosePart(output, item, item.Parts[^1]);
        var part = new ResponseOutputItem.Part(type);
        item.Parts.Add(part);
        if (Begin(output, "response.content_part.added"u8))
        {
            WritePartAddress(item);
            _json.WritePropertyName("part"u8);
            ResponseOutputItem.WritePart(_json, part, empty: true);
            End(output);
        }
        return part;
    }

    private void ClosePart(IBufferWriter<byte> output, ResponseOutputItem item, ResponseOutputItem.Part part)
    {
        var doneType = part.Type switch
        {
            "refusal" => "response.refusal.done"u8,
            "reasoning_text" => "response.reasoning_text.done"u8,
            _ => "response.output_text.done"u8,
        };
        if (Begin(output, doneType))
        {
            WritePartAddress(item, item.Parts.IndexOf(part));
            _json.WriteString(part.Type == "refusal" ? "refusal"u8 : "text"u8, part.Text.ToString());
            if (part.Type == "output_text") EmptyLogprobs();
            End(output);
        }
        if (Begin(output, "response.content_part.done"u8))
        {
            WritePartAddress(item, item.Parts.IndexOf(part));
            _json.WritePropertyName("part"u8);
            ResponseOutputItem.WritePart(_json, part);
            End(output);
        }
    }

    private void Close(IBufferWriter<byte> output, ResponseOutputItem item)
    {
        if (item.Done) return;
        if (ReferenceEquals(_open, item)) _open = null;
        if (item.Kind == ResponseOutputItem.ItemKind.FunctionCall)
        {
            if (Begin(output, "response.function_call_arguments.done"u8))
            {
                _json.WriteString("item_id"u8, item.Id);
                _json.WriteNumber("output_index"u8, item.OutputIndex);
                _json.WriteString("name"u8, item.Name);
                _json.WriteString("arguments"u8, item.ArgumentsText);
                End(output);
            }
        }
        else if (item.Kind == ResponseOutputItem.ItemKind.CustomToolCall)
        {
            // What did not stream (arguments of another shape, or an end the reader had not reached) is told now.
            var input = item.InputText;
            var told = item.CustomInput.Streamed.ToString();
            var rest = input.StartsWith(told, StringComparison.Ordinal) ? input[told.Length..] : "";
            if (rest.Length > 0) WriteInputDelta(output, item, rest);
            if (Begin(output, "response.custom_tool_call_input.done"u8))
            {
                _json.WriteString("item_id"u8, item.Id);
                _json.WriteNumber("output_index"u8, item.OutputIndex);
                _json.WriteString("input"u8, input);
                End(output);
            }
        }
        else if (item.Parts.Count > 0) ClosePart(output, item, item.Parts[^1]);
        // A message cut by the token limit or a filter is incomplete; calls and reasoning before it are whole.
        item.Status = IncompleteReason is not null && item.Kind == ResponseOutputItem.ItemKind.Message ? "incomplete" : "completed";
        if (Begin(output, "response.output_item.done"u8))
        {
            _json.WriteNumber("output_index"u8, item.OutputIndex);
            _json.WritePropertyName("item"u8);
            item.Write(_json);
            End(output);
        }
    }

    private void WriteInputDelta(IBufferWriter<byte> output, ResponseOutputItem item, string delta)
    {
        if (!Begin(output, "response.custom_tool_call_input.delta"u8)) return;
        _json.WriteString("item_id"u8, item.Id);
        _json.WriteNumber("output_index"u8, item.OutputIndex);
        _json.WriteString("delta"u8, delta);
        End(output);
    }

    private void CloseAll(IBufferWriter<byte> output)
    {
        foreach (var item in _items) Close(output, item);
        _open = null;
    }

    private ResponseOutputItem? FindCall(int toolIndex) =>
        _items.FindLast(i => i.IsCall && i.ToolIndex == toolIndex && !i.Done);

    private string ItemSuffix() => $"{_idBase}_{_items.Count}";

    private void WritePartAddress(ResponseOutputItem item, int contentIndex = -1)
    {
        _json.WriteString("item_id"u8, item.Id);
        _json.WriteNumber("output_index"u8, item.OutputIndex);
        _json.WriteNumber("content_index"u8, contentIndex < 0 ? item.Parts.Count - 1 : contentIndex);
    }

    private void EmptyLogprobs()
    {
        _json.WriteStartArray("logprobs"u8);
        _json.WriteEndArray();
    }

    /// <summary>Starts an event: <c>event: type\ndata: {"type":…,"sequence_number":…</c>. False when nothing is written (non-streamed).</summary>
    private bool Begin(IBufferWriter<byte> output, ReadOnlySpan<byte> type)
    {
        if (_silent) return false;
        output.Write("event: "u8);
        output.Write(type);
        output.Write("\ndata: "u8);
        _json.Reset(output);
        _json.WriteStartObject();
        _json.WriteString("type"u8, type);
        _json.WriteNumber("sequence_number"u8, _sequence++);
        return true;
    }

    private void End(IBufferWriter<byte> output)
    {
        _json.WriteEndObject();
        _json.Flush();
        output.Write("\n\n"u8);
    }

    /// <summary>The response object, in the API's field order.</summary>
    private void WriteResponse(Utf8JsonWriter json, string status, ApiError? error)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, ResponseId);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, _createdAt);
        json.WriteString("status"u8, status);
        json.WriteBoolean("background"u8, false);
        if (error is null) json.WriteNull("error"u8);
        else
        {
            json.WriteStartObject("error"u8);
            json.WriteString("code"u8, error.Code ?? error.Type);
            json.WriteString("message"u8, error.Message);
            json.WriteEndObject();
        }
        if (status == "incomplete" && IncompleteReason is { } reason)
        {
            json.WriteStartObject("incomplete_details"u8);
            json.WriteString("reason"u8, reason);
            json.WriteEndObject();
        }
        else json.WriteNull("incomplete_details"u8);
        _echo.WriteLeading(json);
        json.WriteString("model"u8, _echo.Model);
        json.WriteStartArray("output"u8);
        if (status != "in_progress") foreach (var item in _items) item.Write(json);
        json.WriteEndArray();
        _echo.WriteMiddle(json);
        if (_usage is { } usage && status != "in_progress") WriteUsage(json, usage);
        else json.WriteNull("usage"u8);
        _echo.WriteTrailing(json);
        json.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter json, TokenUsage usage)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, usage.InputTokens);
        json.WriteStartObject("input_tokens_details"u8);
        json.WriteNumber("cached_tokens"u8, usage.CacheReadTokens);
        json.WriteEndObject();
        json.WriteNumber("output_tokens"u8, usage.OutputTokens);
        json.WriteStartObject("output_tokens_details"u8);
        json.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
        json.WriteEndObject();
        json.WriteNumber("total_tokens"u8, usage.TotalTokens);
        if (usage.Estimated) json.WriteBoolean("estimated"u8, true);   // our extension: the upstream sent none, never reported as zero
        json.WriteEndObject();
    }
}
