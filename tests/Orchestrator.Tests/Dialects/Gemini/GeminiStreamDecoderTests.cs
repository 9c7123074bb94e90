using System.Buffers;
using System.Text;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Gemini;
using Orchestrator.Actors.Streams;
using Orchestrator.Messages.Answers;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Dialects.Gemini;

public sealed class GeminiStreamDecoderTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    private static List<string> Decode(IEnumerable<string> responses, int choices = 1)
    {
        var decoder = new GeminiStreamDecoder("gemini-route-model", choices, new FixedTime(Now));
        var events = new List<AnswerEvent>();
        foreach (var response in responses) decoder.Decode(Encoding.UTF8.GetBytes(response), events);
        return events.Select(Describe).ToList();
    }

    private static string Describe(AnswerEvent e) => e switch
    {
        MessageStarted m => $"start {m.Id} {m.Model} {m.Created}",
        TextDelta t => $"text {t.Choice} {t.Text}",
        ThinkingDelta t => $"thinking {t.Choice} {t.Text}",
        ThinkingSignature s => $"signature {s.Choice} {s.Signature}",
        ToolCallStarted c => $"tool {c.Choice}/{c.Index} {(c.Id.StartsWith("call_", StringComparison.Ordinal) ? "call_*" : c.Id)} {c.Name}",
        ToolArgumentsDelta a => $"args {a.Choice}/{a.Index} {a.Json}",
        ToolCallEnded c => $"end {c.Choice}/{c.Index}",
        Finished f => $"finish {f.Choice} {f.Reason}",
        UsageReported u => $"usage {u.Usage}",
        AnswerFailed f => $"failed {f.Error.Status} {f.Error.Code}",
        _ => e.ToString(),
    };

    [Fact]
    public void Decode_Text_DeltasThenFinishThenUsage()
    {
        Assert.Equal(
        [
            $"start {GeminiRecordings.TextId} gemini-2.5-flash 1750000000",
            "text 0 Hello",
            "text 0 , wor",
            "text 0 ld!",
            "finish 0 Stop",
            // promptTokenCount already counts the cached tokens; thinking is output too.
            "usage TokenUsage { InputTokens = 1200, OutputTokens = 17, CacheReadTokens = 1024, CacheWriteTokens = 0, ReasoningTokens = 13, Estimated = False, TotalTokens = 1217, UncachedInputTokens = 176 }",
        ], Decode(GeminiRecordings.Text));
    }

    [Fact]
    public void Decode_TwoFunctionCalls_WholeCallsIndexed0And1_ToolCallsFinish()
    {
        Assert.Equal(
        [
            $"start {GeminiRecordings.ToolsId} gemini-2.5-flash 1750000000",
            "text 0 Checking both.",
            $"signature 0 {GeminiRecordings.ToolSignature}",
            "tool 0/0 call_* get_weather",
            """args 0/0 {"city": "Oslo","unit": "celsius"}""",
            "end 0/0",
            "tool 0/1 call_* get_time",
            "args 0/1 {}",   // no args at all: still an object
            "end 0/1",
            "finish 0 ToolCalls",   // STOP after calls, even with text before them
            "usage TokenUsage { InputTokens = 87, OutputTokens = 73, CacheReadTokens = 0, CacheWriteTokens = 0, ReasoningTokens = 42, Estimated = False, TotalTokens = 160, UncachedInputTokens = 87 }",
        ], Decode(GeminiRecordings.Tools));
    }

    [Fact]
    public void Decode_ToolCallIds_GeminisOwnKeptOthersDistinct()
    {
        var decoder = new GeminiStreamDecoder("m");
        var events = new List<AnswerEvent>();
        decoder.Decode("""{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"fc-1","name":"a"}},{"functionCall":{"name":"b"}},{"functionCall":{"name":"c"}}]}}]}"""u8, events);

        var ids = events.OfType<ToolCallStarted>().Select(c => c.Id).ToList();
        Assert.Equal("fc-1", ids[0]);
        Assert.StartsWith("call_", ids[1]);
        Assert.NotEqual(ids[1], ids[2]);
    }

    [Fact]
    public void Decode_Thinking_ThoughtPartsAsThinkingSignatureKept()
    {
        Assert.Equal(
        [
            $"start {GeminiRecordings.ThinkingId} gemini-2.5-flash 1750000000",
            "thinking 0 **Weighing the question**\n\nSix times seven.",
            "text 0 The answer is 42.",
            $"signature 0 {GeminiRecordings.TextSignature}",
            "finish 0 Stop",
            "usage TokenUsage { InputTokens = 12, OutputTokens = 35, CacheReadTokens = 0, CacheWriteTokens = 0, ReasoningTokens = 29, Estimated = False, TotalTokens = 47, UncachedInputTokens = 12 }",
        ], Decode(GeminiRecordings.Thinking));
    }

    [Fact]
    public void Decode_SafetyFinish_ContentFilter()
    {
        var events = Decode(GeminiRecordings.Safety);

        Assert.Equal("text 0 Sure, the first step", events[1]);
        Assert.Equal("finish 0 ContentFilter", events[2]);
    }

    [Fact]
    public void Decode_PromptBlocked_FailsAsCallersContentFilterFault()
    {
        Assert.Equal(["failed 400 content_filter"], Decode(GeminiRecordings.PromptBlocked));
    }

    [Theory]
    [InlineData("MAX_TOKENS", FinishReason.Length)]
    [InlineData("RECITATION", FinishReason.ContentFilter)]
    [InlineData("BLOCKLIST", FinishReason.ContentFilter)]
    [InlineData("PROHIBITED_CONTENT", FinishReason.ContentFilter)]
    [InlineData("SPII", FinishReason.ContentFilter)]
    [InlineData("MALFORMED_FUNCTION_CALL", FinishReason.Stop)]
    [InlineData("OTHER", FinishReason.Stop)]
    public void Finish_GeminiReasons_Mapped(string reason, FinishReason expected) =>
        Assert.Equal(expected, GeminiStreamDecoder.Finish(reason, madeCalls: false));

    [Fact]
    public void Decode_TwoCandidates_UsageOnlyOnceBothFinished()
    {
        var events = Decode(
        [
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"A"}]},"finishReason":"STOP"},{"content":{"role":"model","parts":[{"text":"B"}]},"index":1}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS","index":1}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4}}""",
        ], choices: 2);

        Assert.Equal(["text 0 A", "finish 0 Stop", "text 1 B", "text 1 b", "finish 1 Length"], events.Skip(1).Take(5));
        Assert.StartsWith("usage TokenUsage { InputTokens = 3, OutputTokens = 4", Assert.Single(events, e => e.StartsWith("usage", StringComparison.Ordinal)));
        Assert.StartsWith("usage", events[^1]);
    }

    [Fact]
    public void Decode_NoResponseIdOrModelVersion_GeneratedIdAndRouteModel()
    {
        var events = Decode(["""{"candidates":[{"content":{"role":"model","parts":[{"text":"x"}]}}]}"""]);

        Assert.Matches("^start chatcmpl-[0-9a-f]{32} gemini-route-model 1750000000$", events[0]);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":1}]}}]")]
    [InlineData("{\"candidates\":\"x\",\"usageMetadata\":[]}")]
    [InlineData("")]
    public void Decode_MalformedEvent_SkippedNeverThrown(string data)
    {
        var decoder = new GeminiStreamDecoder("m");
        var events = new List<AnswerEvent>();
        decoder.Decode(Encoding.UTF8.GetBytes(data), events);
        decoder.Decode(Encoding.UTF8.GetBytes(GeminiRecordings.Text[0]), events);

        Assert.Contains(events, e => e is TextDelta { Text: "Hello" });
    }

    [Fact]
    public void Decode_ErrorObjectMidStream_Fails()
    {
        var events = Decode([GeminiRecordings.Text[0], """{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"""]);

        Assert.Equal("failed 502 upstream_error", events[^1]);
    }

    /// <summary>Through the hub codec, as the answer stage reads it: chat chunks with indexes 0 and 1 and "{}" arguments.</summary>
    [Fact]
    public void ChatChunkDecoder_ToolsRecording_ChunksAsAnOpenAiUpstreamWouldSend()
    {
        var decoder = new ChatChunkDecoder(new GeminiStreamDecoder("m", 1, new FixedTime(Now)));
        var output = new ArrayBufferWriter<byte>();
        var reader = new SseReader(64 * 1024);
        try
        {
            reader.Append(Encoding.UTF8.GetBytes(GeminiRecordings.Wire(GeminiRecordings.Tools)));
            while (reader.TryReadData(out var data)) decoder.Decode(data, output);
        }
        finally
        {
            reader.Dispose();
        }
        var chunks = Encoding.UTF8.GetString(output.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("\"role\":\"assistant\"", chunks[0]);
        Assert.Contains(chunks, c => c.Contains("\"index\":0,\"id\":\"call_") && c.Contains("\"name\":\"get_weather\""));
        Assert.Contains(chunks, c => c.Contains("\"index\":1,\"id\":\"call_") && c.Contains("\"name\":\"get_time\""));
        Assert.Contains(chunks, c => c.Contains("\"index\":1,\"function\":{\"arguments\":\"{}\"}"));
        Assert.Contains("\"finish_reason\":\"tool_calls\"", chunks[^2]);
        Assert.Contains("\"usage\":{\"prompt_tokens\":87,\"completion_tokens\":73", chunks[^1]);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
