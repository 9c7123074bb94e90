using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Messages.Answers;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Dialects.Anthropic;

/// <summary>Recorded Anthropic streams decoded into canonical events, and from there into the engine's chat chunks.</summary>
public sealed class AnthropicStreamDecoderTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    private static List<string> Decode(string recording) => Decode(AnthropicRecordings.DataOf(recording));

    private static List<string> Decode(IEnumerable<string> data)
    {
        var decoder = new AnthropicStreamDecoder(new FixedTime(Now));
        var events = new List<AnswerEvent>();
        foreach (var payload in data) decoder.Decode(Encoding.UTF8.GetBytes(payload), events);
        return events.Select(Describe).ToList();
    }

    private static string Describe(AnswerEvent e) => e switch
    {
        MessageStarted m => $"start {m.Id} {m.Model} {m.Created}",
        TextDelta t => $"text {t.Choice} {t.Text}",
        ThinkingDelta t => $"thinking {t.Choice} {t.Text}",
        ThinkingSignature s => $"signature {s.Choice} {s.Signature}",
        ToolCallStarted c => $"tool {c.Choice} {c.Index} {c.Id} {c.Name}",
        ToolArgumentsDelta a => $"args {a.Choice} {a.Index} {a.Json}",
        ToolCallEnded c => $"tool-end {c.Choice} {c.Index}",
        Finished f => $"finish {f.Choice} {f.Reason}",
        UsageReported u => $"usage {u.Usage.InputTokens} {u.Usage.OutputTokens} {u.Usage.CacheReadTokens} {u.Usage.CacheWriteTokens}",
        AnswerFailed f => $"failed {f.Error.Status} {f.Error.Code}",
        _ => e.GetType().Name,
    };

    [Fact]
    public void Decode_TextStream_TextFinishThenUsageWithTheCacheCounted()
    {
        Assert.Equal(
        [
            $"start {AnthropicRecordings.TextId} claude-test-1 1750000000",
            "text 0 Hello",
            "text 0 , world",
            "text 0 !",
            "finish 0 Stop",
            "usage 40 12 10 5",   // input 25 + cache read 10 + cache write 5
        ], Decode(AnthropicRecordings.Text));
    }

    [Fact]
    public void Decode_ToolStream_CallsIndexedFromZeroWithTheUpstreamIds()
    {
        Assert.Equal(
        [
            $"start {AnthropicRecordings.ToolsId} claude-test-1 1750000000",
            "text 0 Let me check.",
            $"tool 0 0 {AnthropicRecordings.WeatherToolId} get_weather",
            "args 0 0 {\"city\": \"Par",
            "args 0 0 is\", \"unit\": \"c\"}",
            "tool-end 0 0",
            $"tool 0 1 {AnthropicRecordings.TimeToolId} get_time",
            "tool-end 0 1",
            "finish 0 ToolCalls",
            "usage 472 89 0 0",
        ], Decode(AnthropicRecordings.Tools));
    }

    [Fact]
    public void Decode_ThinkingStream_ThinkingAndItsSignatureThenText()
    {
        Assert.Equal(
        [
            "start msg_01ThinkThinkThinkThinkThink claude-test-1 1750000000",
            "thinking 0 27 * 453 = 12231",
            $"signature 0 {AnthropicRecordings.Signature}",
            "text 0 12231",
            "finish 0 Stop",
            "usage 40 30 0 0",
        ], Decode(AnthropicRecordings.Thinking));
    }

    [Fact]
    public void Decode_OverloadedError_AnswerFailedAs529()
    {
        var events = Decode(AnthropicRecordings.OverloadedBeforeContent);

        Assert.Equal(["start msg_01Overloaded0000000000000 claude-test-1 1750000000", "failed 529 overloaded_error"], events);
    }

    [Theory]
    [InlineData("rate_limit_error", 429)]
    [InlineData("api_error", 500)]
    [InlineData("something_new", 500)]
    public void Decode_ErrorTypes_StatusOfTheirHttpForm(string type, int status)
    {
        var decoder = new AnthropicStreamDecoder();
        var events = new List<AnswerEvent>();
        decoder.Decode(Encoding.UTF8.GetBytes($$$"""{"type":"error","error":{"type":"{{{type}}}","message":"secret upstream words"}}"""), events);

        var failed = Assert.IsType<AnswerFailed>(Assert.Single(events));
        Assert.Equal(status, failed.Error.Status);
        Assert.DoesNotContain("secret", failed.Error.Message);
    }

    [Theory]
    [InlineData("end_turn", FinishReason.Stop)]
    [InlineData("stop_sequence", FinishReason.Stop)]
    [InlineData("pause_turn", FinishReason.Stop)]
    [InlineData("max_tokens", FinishReason.Length)]
    [InlineData("tool_use", FinishReason.ToolCalls)]
    [InlineData("refusal", FinishReason.ContentFilter)]
    public void Decode_StopReason_Mapped(string stopReason, FinishReason expected)
    {
        var events = Decode([$$$"""{"type":"message_delta","delta":{"stop_reason":"{{{stopReason}}}"},"usage":{"output_tokens":3}}"""]);

        Assert.Equal($"finish 0 {expected}", events[0]);
    }

    [Fact]
    public void Decode_MessageDeltaWithInputUsage_ReplacesTheStartCounts()
    {
        var events = Decode(
        [
            """{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":5,"cache_read_input_tokens":1,"output_tokens":1}}}""",
            """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":7,"cache_read_input_tokens":3,"cache_creation_input_tokens":2,"output_tokens":9}}""",
        ]);

        Assert.Equal("usage 12 9 3 2", events[^1]);
    }

    [Fact]
    public void Decode_ToolStartWithInput_InputSentAsArguments()
    {
        var events = Decode(
        [
            """{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}""",
            """{"type":"content_block_stop","index":0}""",
        ]);

        Assert.Equal(["tool 0 0 t f", "args 0 0 {\"a\":1}", "tool-end 0 0"], events);
    }

    [Fact]
    public void Decode_DeltaFieldsOutOfOrder_ReadAllTheSame()
    {
        var events = Decode(
        [
            """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            """{"delta":{"text":"a","type":"text_delta"},"index":0,"type":"content_block_delta"}""",
            """{"type":"content_block_delta","delta":{"text":"b","type":"text_delta"},"index":0,"extra":[1,{"x":2}]}""",
        ]);

        Assert.Equal(["text 0 a", "text 0 b"], events);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("""{"type":"content_block_delta","index":"x","delta":{"type":"text_delta","text":1}}""")]
    [InlineData("""{"type":"content_block_start","index":0,"content_block":"text"}""")]
    [InlineData("""{"type":"message_start","message":[]}""")]
    [InlineData("""{"type":"content_block_delta","index":9,"delta":{"type":"input_json_delta","partial_json":"{}"}}""")]
    [InlineData("""{"type":"citations_delta"}""")]
    [InlineData("")]
    public void Decode_MalformedOrUnknownEvent_SkippedWithoutThrowing(string data)
    {
        Assert.Empty(Decode([data]));
    }

    [Fact]
    public void ChatChunks_ToolStream_RoleFirstIndexes01EmptyArgumentsAsBracesFinishToolCalls()
    {
        var decoder = new ChatChunkDecoder(new AnthropicStreamDecoder(new FixedTime(Now)));
        var output = new ArrayBufferWriter<byte>();
        foreach (var payload in AnthropicRecordings.DataOf(AnthropicRecordings.Tools)) decoder.Decode(Encoding.UTF8.GetBytes(payload), output);
        var chunks = Encoding.UTF8.GetString(output.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.All(chunks, c => Assert.Equal(AnthropicRecordings.ToolsId, c.GetProperty("id").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var calls = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _))
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0]).ToList();
        Assert.Equal([0, 0, 0, 1, 1], calls.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(AnthropicRecordings.WeatherToolId, calls[0].GetProperty("id").GetString());
        Assert.Equal(AnthropicRecordings.TimeToolId, calls[3].GetProperty("id").GetString());
        Assert.Equal("{\"city\": \"Paris\", \"unit\": \"c\"}", string.Concat(calls.Take(3).Select(c => c.GetProperty("function").GetProperty("arguments").GetString())));
        Assert.Equal("{}", calls[4].GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(calls[1].TryGetProperty("type", out _));   // type only on a call's first delta
        var finish = chunks.Single(c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String);
        Assert.Equal("tool_calls", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(472, chunks[^1].GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
