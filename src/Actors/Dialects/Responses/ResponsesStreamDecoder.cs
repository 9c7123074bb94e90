using System.Text.Json;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// An OpenAI Responses upstream's stream (a native <c>responses = on</c> route) read into canonical events, for the
/// engine's bookkeeping: usage for billing, the finish, first-token and idle watchdogs, the transcript a resume
/// needs. The client does not get these: a Responses front writes the upstream's own events
/// (<see cref="AnswerBlock.Native"/>). <c>response.created</c> starts the message; text, refusal and reasoning
/// deltas are content; a <c>function_call</c> or <c>custom_tool_call</c> item is a tool call (its arguments or
/// input as they stream); <c>response.completed</c> / <c>.incomplete</c> end it with usage; <c>response.failed</c>
/// and <c>error</c> are a failure. Event types not known here carry nothing for the engine and are passed over.
/// </summary>
public sealed class ResponsesStreamDecoder : IAnswerDecoder
{
    // output_index -> the canonical tool index of the call that item is.
    private readonly Dictionary<int, int> _calls = [];
    private bool _started;

    public void Decode(ReadOnlySpan<byte> data, List<AnswerEvent> events)
    {
        if (TryDelta(data, events)) return;
        try
        {
            var reader = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref reader);
            DecodeDocument(document.RootElement, events);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // IAnswerDecoder: an event we cannot read (bad JSON, invalid UTF-8 in a string) is skipped, never thrown.
        }
    }

    private void DecodeDocument(JsonElement root, List<AnswerEvent> events)
    {
        if (root.ValueKind != JsonValueKind.Object || String(root, "type") is not { } type) return;
        switch (type)
        {
            case "response.created" or "response.in_progress":
                Start(root, events);
                break;
            case "response.output_text.delta":
                Start(root, events);
                if (String(root, "delta") is { Length: > 0 } text) events.Add(new TextDelta(0, text));
                break;
            case "response.refusal.delta":
                Start(root, events);
                if (String(root, "delta") is { Length: > 0 } refusal) events.Add(new RefusalDelta(0, refusal));
                break;
            case "response.reasoning_text.delta" or "response.reasoning_summary_text.delta":
                Start(root, events);
                if (String(root, "delta") is { Length: > 0 } thinking) events.Add(new ThinkingDelta(0, thinking));
                break;
            case "response.output_item.added":
                Start(root, events);
                if (Item(root) is { } added && IsCall(added) && Index(root) is { } addedAt && !_calls.ContainsKey(addedAt))
                {
                    _calls[addedAt] = _calls.Count;
                    events.Add(new ToolCallStarted(0, _calls[addedAt], String(added, "call_id") ?? "", String(added, "name") ?? ""));
                }
                break;
            case "response.function_call_arguments.delta" or "response.custom_tool_call_input.delta":
                if (Index(root) is { } deltaAt && _calls.TryGetValue(deltaAt, out var deltaCall) && String(root, "delta") is { Length: > 0 } delta)
                    events.Add(new ToolArgumentsDelta(0, deltaCall, delta));
                break;
            case "response.output_item.done":
                if (Item(root) is { } done && IsCall(done) && Index(root) is { } doneAt && _calls.TryGetValue(doneAt, out var doneCall))
                    events.Add(new ToolCallEnded(0, doneCall));
                break;
            case "response.completed" or "response.incomplete":
                Start(root, events);
                events.Add(new Finished(0, FinishOf(type, root)));
                if (Response(root) is { } finished && finished.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    events.Add(new UsageReported(Usage(usage)));
                break;
            case "response.failed" or "error":
                events.Add(new AnswerFailed(ErrorOf(root)));
                break;
        }
    }

    /// <summary>
    /// The events that come by the hundred (<c>*.delta</c>) read with one reader pass, no document: their
    /// <c>type</c>, <c>output_index</c> and <c>delta</c>. False (nothing added) for any other event, which the
    /// document path then reads.
    /// </summary>
    private bool TryDelta(ReadOnlySpan<byte> data, List<AnswerEvent> events)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            DeltaKind kind = DeltaKind.None;
            int? index = null;
            string? delta = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
                    kind = reader.ValueTextEquals("response.output_text.delta"u8) ? DeltaKind.Text
                        : reader.ValueTextEquals("response.function_call_arguments.delta"u8) || reader.ValueTextEquals("response.custom_tool_call_input.delta"u8) ? DeltaKind.Call
                        : DeltaKind.None;
                    if (kind == DeltaKind.None) return false;
                }
                else if (reader.ValueTextEquals("output_index"u8))
                {
                    if (!reader.Read() || !reader.TryGetInt32(out var n)) return false;
                    index = n;
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
                    delta = reader.GetString();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || kind == DeltaKind.None || !_started) return false;
            if (string.IsNullOrEmpty(delta)) return true;
            if (kind == DeltaKind.Text) events.Add(new TextDelta(0, delta));
            else if (index is { } at && _calls.TryGetValue(at, out var call)) events.Add(new ToolArgumentsDelta(0, call, delta));
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;   // the document path skips it
        }
    }

    private enum DeltaKind { None, Text, Call }

    private void Start(JsonElement root, List<AnswerEvent> events)
    {
        if (_started) return;
        _started = true;
        var response = Response(root);
        events.Add(new MessageStarted(
            response is { } r ? String(r, "id") ?? "" : "",
            response is { } m ? String(m, "model") ?? "" : "",
            response is { } c && c.TryGetProperty("created_at", out var created) && created.TryGetInt64(out var at) ? at : 0));
    }

    private FinishReason FinishOf(string type, JsonElement root)
    {
        if (type == "response.incomplete")
        {
            var reason = Response(root) is { } r && r.TryGetProperty("incomplete_details", out var details) && details.ValueKind == JsonValueKind.Object ? String(details, "reason") : null;
            return reason == "content_filter" ? FinishReason.ContentFilter : FinishReason.Length;
        }
        return _calls.Count > 0 ? FinishReason.ToolCalls : FinishReason.Stop;
    }

    /// <summary>The Responses usage in canonical counts: input_tokens is already the whole prompt, cached included.</summary>
    internal static TokenUsage Usage(JsonElement usage) => new(
        Int(usage, "input_tokens"),
        Int(usage, "output_tokens"),
        CacheReadTokens: usage.TryGetProperty("input_tokens_details", out var input) && input.ValueKind == JsonValueKind.Object ? Int(input, "cached_tokens") : 0,
        ReasoningTokens: usage.TryGetProperty("output_tokens_details", out var output) && output.ValueKind == JsonValueKind.Object ? Int(output, "reasoning_tokens") : 0);

    private static ApiError ErrorOf(JsonElement root)
    {
        var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e
            : Response(root) is { } r && r.TryGetProperty("error", out var re) && re.ValueKind == JsonValueKind.Object ? re
            : root;
        var code = String(error, "code") ?? String(error, "type");
        var message = String(error, "message") ?? "The upstream's response failed.";
        // A rate limit or an overloaded service is the provider's, and worth another route; anything else is the upstream's failure.
        return code switch
        {
            "rate_limit_exceeded" => new ApiError(429, message, "rate_limit_error", null, code),
            "server_error" or "server_is_overloaded" or "slow_down" => new ApiError(503, message, "server_error", null, code),
            _ => ApiError.UpstreamFailed(message) with { Code = code },
        };
    }

    private static bool IsCall(JsonElement item) => String(item, "type") is "function_call" or "custom_tool_call";

    private static JsonElement? Item(JsonElement root) => root.TryGetProperty("item", out var item) && item.ValueKind == JsonValueKind.Object ? item : null;

    private static JsonElement? Response(JsonElement root) => root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object ? response : null;

    private static int? Index(JsonElement root) => root.TryGetProperty("output_index", out var index) && index.TryGetInt32(out var value) ? value : null;

    private static int Int(JsonElement obj, string name) => obj.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : 0;

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
