using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.Dialects.Anthropic;

public sealed class MessagesEncoderTests
{
    private const int PromptEstimate = 42;

    internal sealed record SseEvent(string Name, JsonNode Data);

    /// <summary>Encodes the events then completes (or fails), and parses the bytes back as SSE, checking the framing.</summary>
    private static List<SseEvent> Encode(IEnumerable<AnswerEvent> events, ApiError? failure = null)
    {
        var encoder = new MessagesEncoder("claude-front", PromptEstimate);
        var output = new ArrayBufferWriter<byte>();
        foreach (var e in events) encoder.Encode(e, output);
        if (failure is null) encoder.Complete(output);
        else encoder.Fail(failure, output);
        return Parse(Encoding.UTF8.GetString(output.WrittenSpan));
    }

    internal static List<SseEvent> Parse(string sse)
    {
        Assert.EndsWith("\n\n", sse);
        var parsed = new List<SseEvent>();
        foreach (var block in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            var name = lines[0]["event: ".Length..];
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            Assert.Equal(name, (string?)data["type"]);   // Anthropic: the event name repeats the data's type
            parsed.Add(new SseEvent(name, data));
        }
        return parsed;
    }

    /// <summary>What every Anthropic client relies on: one block open at a time, each closed, indexes counting up, deltas of the open block's kind.</summary>
    private static void AssertWellFormed(List<SseEvent> events, bool whole = true)
    {
        Assert.Equal("message_start", events[0].Name);
        int? open = null;
        string? openType = null;
        var next = 0;
        foreach (var e in events.Skip(1))
        {
            switch (e.Name)
            {
                case "content_block_start":
                    Assert.Null(open);
                    open = (int)e.Data["index"]!;
                    Assert.Equal(next++, open);
                    openType = (string?)e.Data["content_block"]!["type"];
                    break;
                case "content_block_delta":
                    Assert.Equal(open, (int)e.Data["index"]!);
                    var deltaType = (string?)e.Data["delta"]!["type"];
                    var allowed = openType switch
                    {
                        "text" => new[] { "text_delta" },
                        "thinking" => ["thinking_delta", "signature_delta"],
                        "tool_use" => ["input_json_delta"],
                        _ => [],
                    };
                    Assert.Contains(deltaType, allowed);
                    break;
                case "content_block_stop":
                    Assert.Equal(open, (int)e.Data["index"]!);
                    open = null;
                    break;
                case "message_delta":
                    Assert.Null(open);
                    break;
            }
        }
        if (whole)
        {
            Assert.Null(open);
            Assert.Equal("message_delta", events[^2].Name);
            Assert.Equal("message_stop", events[^1].Name);
        }
    }

    private static string Names(List<SseEvent> events) => string.Join(",", events.Select(e =>
        e.Name == "content_block_delta" ? (string)e.Data["delta"]!["type"]! : e.Name == "content_block_start" ? "start:" + (string)e.Data["content_block"]!["type"]! : e.Name));

    [Fact]
    public void Encoder_Text_WritesTheAnthropicSequence()
    {
        var events = Encode([
            new MessageStarted("chatcmpl-abc", "upstream-model", 1),
            new TextDelta(0, "Hel"),
            new TextDelta(0, "lo"),
            new Finished(0, FinishReason.Stop),
            new UsageReported(new TokenUsage(20, 5)),
        ]);
        AssertWellFormed(events);
        Assert.Equal("message_start,start:text,text_delta,text_delta,content_block_stop,message_delta,message_stop", Names(events));

        var message = events[0].Data["message"]!;
        Assert.Equal("msg_abc", (string?)message["id"]);
        Assert.Equal("message", (string?)message["type"]);
        Assert.Equal("assistant", (string?)message["role"]);
        Assert.Equal("claude-front", (string?)message["model"]);   // the model the client asked for
        Assert.Equal("[]", message["content"]!.ToJsonString());
        Assert.Null(message["stop_reason"]);
        Assert.Equal("Hel", (string?)events[2].Data["delta"]!["text"]);

        var delta = events[^2].Data;
        Assert.Equal("end_turn", (string?)delta["delta"]!["stop_reason"]);
        Assert.True(delta["delta"]!.AsObject().ContainsKey("stop_sequence"));
        Assert.Equal(20, (int)delta["usage"]!["input_tokens"]!);
        Assert.Equal(5, (int)delta["usage"]!["output_tokens"]!);
        Assert.Null(delta["usage"]!["estimated"]);
    }

    [Fact]
    public void Encoder_MessageStartUsage_IsThePromptEstimateNotZero()
    {
        var events = Encode([new MessageStarted("x", "m", 1), new TextDelta(0, "a")]);
        var usage = events[0].Data["message"]!["usage"]!;
        Assert.Equal(PromptEstimate, (int)usage["input_tokens"]!);
        Assert.Equal(1, (int)usage["output_tokens"]!);
        Assert.Equal(0, (int)usage["cache_read_input_tokens"]!);
        Assert.Equal(0, (int)usage["cache_creation_input_tokens"]!);
        Assert.True((bool)usage["estimated"]!);
    }

    [Fact]
    public void Encoder_ThinkingThenText_SignatureBeforeTheThinkingBlockStops()
    {
        var events = Encode([
            new MessageStarted("x", "m", 1),
            new ThinkingDelta(0, "Let me "),
            new ThinkingDelta(0, "think"),
            new ThinkingSignature(0, "sig=="),
            new TextDelta(0, "Answer"),
            new Finished(0, FinishReason.Stop),
        ]);
        AssertWellFormed(events);
        Assert.Equal("message_start,start:thinking,thinking_delta,thinking_delta,signature_delta,content_block_stop,start:text,text_delta,content_block_stop,message_delta,message_stop", Names(events));
        Assert.Equal("sig==", (string?)events[4].Data["delta"]!["signature"]);
        Assert.Equal(1, (int)events[6].Data["index"]!);
    }

    [Fact]
    public void Encoder_ThinkingWhileTextIsOpen_ClosesTheTextBlockFirst()
    {
        var events = Encode([
            new MessageStarted("x", "m", 1),
            new TextDelta(0, "Hmm"),
            new ThinkingDelta(0, "wait"),
            new TextDelta(0, "ok"),
        ]);
        AssertWellFormed(events);
        Assert.Equal("message_start,start:text,text_delta,content_block_stop,start:thinking,thinking_delta,content_block_stop,start:text,text_delta,content_block_stop,message_delta,message_stop", Names(events));
    }

    [Fact]
    public void Encoder_TextThenTwoToolCalls_IndexesCountUpAndStopReasonIsToolUse()
    {
        var events = Encode([
            new MessageStarted("x", "m", 1),
            new TextDelta(0, "Checking."),
            new ToolCallStarted(0, 0, "toolu_A", "get_weather"),
            new ToolArgumentsDelta(0, 0, "{\"city\":"),
            new ToolArgumentsDelta(0, 0, "\"Oslo\"}"),
            new ToolCallEnded(0, 0),
            new ToolCallStarted(0, 1, "toolu_B", "get_time"),
            new ToolArgumentsDelta(0, 1, "{\"tz\":\"CET\"}"),
            new ToolCallEnded(0, 1),
            new Finished(0, FinishReason.Stop),   // some upstreams say stop even then: a tool was called, so tool_use
            new UsageReported(new TokenUsage(30, 9)),
        ]);
        AssertWellFormed(events);
        Assert.Equal("message_start,start:text,text_delta,content_block_stop,start:tool_use,input_json_delta,input_json_delta,content_block_stop,start:tool_use,input_json_delta,content_block_stop,message_delta,message_stop", Names(events));
        var first = events[4].Data;
        Assert.Equal(1, (int)first["index"]!);
        Assert.Equal("""{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}""", first["content_block"]!.ToJsonString());
        Assert.Equal("{\"city\":\"Oslo\"}", string.Concat(events.Skip(5).Take(2).Select(e => (string)e.Data["delta"]!["partial_json"]!)));
        Assert.Equal(2, (int)events[8].Data["index"]!);
        Assert.Equal("toolu_B", (string?)events[8].Data["content_block"]!["id"]);
        Assert.Equal("tool_use", (string?)events[^2].Data["delta"]!["stop_reason"]);
    }

    [Fact]
    public void Encoder_ToolWithoutArguments_SendsEmptyObjectAsPartialJson()
    {
        var events = Encode([
            new MessageStarted("x", "m", 1),
            new ToolCallStarted(0, 0, "toolu_A", "now"),
            new ToolCallEnded(0, 0),
            new Finished(0, FinishReason.ToolCalls),
        ]);
        AssertWellFormed(events);
        Assert.Equal("message_start,start:tool_use,input_json_delta,content_block_stop,message_delta,message_stop", Names(events));
        Assert.Equal("{}", (string?)events[2].Data["delta"]!["partial_json"]);
    }

    [Fact]
    public void Encoder_NextToolStartsBeforeTheFirstEnds_ClosesTheFirst()
    {
        var events = Encode([
            new MessageStarted("x", "m", 1),
            new ToolCallStarted(0, 0, "a", "one"),
            new ToolCallStarted(0, 1, "b", "two"),
            new ToolArgumentsDelta(0, 1, "{}"),
        ]);
        AssertWellFormed(events);
        Assert.Equal("message_start,start:tool_use,input_json_delta,content_block_stop,start:tool_use,input_json_delta,content_block_stop,message_delta,message_stop", Names(events));
    }

    [Theory]
    [InlineData(FinishReason.Length, "max_tokens")]
    [InlineData(FinishReason.ContentFilter, "refusal")]
    [InlineData(FinishReason.Stop, "end_turn")]
    public void Encoder_FinishReason_MapsToStopReason(FinishReason reason, string expected)
    {
        var events = Encode([new MessageStarted("x", "m", 1), new TextDelta(0, "a"), new Finished(0, reason)]);
        Assert.Equal(expected, (string?)events[^2].Data["delta"]!["stop_reason"]);
    }

    [Fact]
    public void Encoder_CachedUsage_InputTokensExcludeCacheReadsAndWrites()
    {
        var events = Encode([
            new MessageStarted("x", "m", 1), new TextDelta(0, "a"), new Finished(0, FinishReason.Stop),
            new UsageReported(new TokenUsage(120, 10, CacheReadTokens: 100, CacheWriteTokens: 7)),
        ]);
        var usage = events[^2].Data["usage"]!;
        Assert.Equal(13, (int)usage["input_tokens"]!);
        Assert.Equal(100, (int)usage["cache_read_input_tokens"]!);
        Assert.Equal(7, (int)usage["cache_creation_input_tokens"]!);
        Assert.Equal(10, (int)usage["output_tokens"]!);
    }

    [Fact]
    public void Encoder_NoUsageFromUpstream_ReportsAnEstimateMarkedAsSuch()
    {
        var events = Encode([new MessageStarted("x", "m", 1), new TextDelta(0, "four score and seven"), new Finished(0, FinishReason.Stop)]);
        var usage = events[^2].Data["usage"]!;
        Assert.Equal(PromptEstimate, (int)usage["input_tokens"]!);
        Assert.True((int)usage["output_tokens"]! > 0);
        Assert.True((bool)usage["estimated"]!);
    }

    [Fact]
    public void Encoder_EstimatedUsage_IsMarked()
    {
        var events = Encode([new MessageStarted("x", "m", 1), new TextDelta(0, "a"), new UsageReported(new TokenUsage(5, 3, Estimated: true))]);
        Assert.True((bool)events[^2].Data["usage"]!["estimated"]!);
    }

    [Theory]
    [InlineData(503, "overloaded_error")]
    [InlineData(529, "overloaded_error")]
    [InlineData(502, "api_error")]
    [InlineData(500, "api_error")]
    [InlineData(429, "rate_limit_error")]
    public void Encoder_Failure_WritesErrorEventAndNoMessageStop(int status, string type)
    {
        var events = Encode([new MessageStarted("x", "m", 1), new TextDelta(0, "partial")],
            new ApiError(status, "The upstream went away.", "api_error", null, null));
        Assert.DoesNotContain(events, e => e.Name is "message_stop" or "message_delta");
        var error = events[^1];
        Assert.Equal("error", error.Name);
        Assert.Equal(type, (string?)error.Data["error"]!["type"]);
        Assert.Equal("The upstream went away.", (string?)error.Data["error"]!["message"]);
    }

    [Fact]
    public void Encoder_KeepAlive_IsACommentBeforeMessageStartAndPingAfter()
    {
        var encoder = new MessagesEncoder("m", 1);
        Assert.Equal(": keep-alive\n\n", Encoding.UTF8.GetString(encoder.KeepAlive));
        encoder.Encode(new MessageStarted("x", "m", 1), new ArrayBufferWriter<byte>());
        Assert.Equal("event: ping\ndata: {\"type\":\"ping\"}\n\n", Encoding.UTF8.GetString(encoder.KeepAlive));
    }

    [Fact]
    public void Encoder_CompleteWithoutAnyEvent_StillWritesAWholeMessage()
    {
        var events = Encode([]);
        AssertWellFormed(events);
        Assert.Equal("message_start,message_delta,message_stop", Names(events));
        Assert.StartsWith("msg_", (string?)events[0].Data["message"]!["id"]);
    }

    [Fact]
    public void Encoder_Refusal_ReadsAsTextWithStopReasonRefusal()
    {
        var events = Encode([new MessageStarted("x", "m", 1), new RefusalDelta(0, "I can't help with that."), new Finished(0, FinishReason.Stop)]);
        AssertWellFormed(events);
        Assert.Equal("I can't help with that.", (string?)events[2].Data["delta"]!["text"]);
        Assert.Equal("refusal", (string?)events[^2].Data["delta"]!["stop_reason"]);
    }

    [Fact]
    public void Encoder_NonAsciiText_StaysUtf8()
    {
        var encoder = new MessagesEncoder("m", 1);
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode(new TextDelta(0, "héllo \"wörld\" 日本"), output);
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.Contains("héllo \\\"wörld\\\" 日本", text);
    }
}
