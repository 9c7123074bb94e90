using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.Dialects;

public sealed class ChatChunksTests
{
    private static List<string> Write(params AnswerEvent[] events)
    {
        var writer = new ChatChunkWriter();
        var output = new ArrayBufferWriter<byte>();
        foreach (var e in events) writer.Write(e, output);
        return Encoding.UTF8.GetString(output.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static List<AnswerEvent> Read(IEnumerable<string> chunks)
    {
        var reader = new ChatChunkReader();
        var events = new List<AnswerEvent>();
        foreach (var chunk in chunks) Assert.True(reader.Read(Encoding.UTF8.GetBytes(chunk), events), chunk);
        return events;
    }

    private static string Describe(AnswerEvent e) => e switch
    {
        MessageStarted m => $"start {m.Id} {m.Model} {m.Created}",
        TextDelta t => $"text {t.Choice} {t.Text}",
        ThinkingDelta t => $"thinking {t.Choice} {t.Text}",
        ThinkingSignature s => $"signature {s.Choice} {s.Signature}",
        RefusalDelta r => $"refusal {r.Choice} {r.Text}",
        ToolCallStarted c => $"tool {c.Choice}/{c.Index} {c.Id} {c.Name}",
        ToolArgumentsDelta a => $"args {a.Choice}/{a.Index} {a.Json}",
        ToolCallEnded c => $"end {c.Choice}/{c.Index}",
        Finished f => $"finish {f.Choice} {f.Reason}",
        UsageReported u => $"usage {u.Usage}",
        AnswerFailed f => $"failed {f.Error.Code}",
        _ => e.ToString(),
    };

    [Fact]
    public void Chunks_EveryEventKind_ReadBackAsTheSameEvents()
    {
        var usage = new TokenUsage(120, 40, CacheReadTokens: 100, CacheWriteTokens: 7, ReasoningTokens: 12);
        AnswerEvent[] events =
        [
            new MessageStarted("msg_1", "claude-x", 1700000000),
            new ThinkingDelta(0, "Let me think"),
            new ThinkingSignature(0, "sig=="),
            new TextDelta(0, "Calling \"tools\"\n"),
            new ToolCallStarted(0, 0, "toolu_A", "get_weather"),
            new ToolArgumentsDelta(0, 0, "{\"city\":"),
            new ToolArgumentsDelta(0, 0, "\"Oslo\"}"),
            new ToolCallEnded(0, 0),
            new ToolCallStarted(0, 1, "toolu_B", "get_time"),
            new ToolCallEnded(0, 1),
            new Finished(0, FinishReason.ToolCalls),
            new UsageReported(usage),
        ];
        var read = Read(Write(events)).Select(Describe).ToList();
        Assert.Equal(
        [
            "start msg_1 claude-x 1700000000",
            "thinking 0 Let me think",
            "signature 0 sig==",
            "text 0 Calling \"tools\"\n",
            "tool 0/0 toolu_A get_weather",
            "args 0/0 {\"city\":",
            "args 0/0 \"Oslo\"}",
            "end 0/0",
            "tool 0/1 toolu_B get_time",
            "args 0/1 {}",   // a call with no arguments still has an arguments object
            "end 0/1",
            "finish 0 ToolCalls",
            $"usage {usage}",
        ], read);
    }

    [Fact]
    public void Chunks_FirstChunk_CarriesTheAssistantRoleAndContinuationsNoType()
    {
        var chunks = Write(new MessageStarted("id", "m", 1), new ToolCallStarted(0, 0, "call_1", "f"), new ToolArgumentsDelta(0, 0, "{}"), new Finished(0, FinishReason.ToolCalls));
        using var first = JsonDocument.Parse(chunks[0]);
        Assert.Equal("assistant", first.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, first.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        using var start = JsonDocument.Parse(chunks[1]);
        Assert.Equal("function", start.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0].GetProperty("type").GetString());
        using var continuation = JsonDocument.Parse(chunks[2]);
        Assert.False(continuation.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0].TryGetProperty("type", out _));
        Assert.All(chunks, c => Assert.DoesNotContain('\n', c));
    }

    [Fact]
    public void Chunks_Usage_IsAChunkWithNoChoicesAndItsDetails()
    {
        var chunks = Write(new MessageStarted("id", "m", 1), new UsageReported(new TokenUsage(10, 5, 4, Estimated: true)));
        using var usage = JsonDocument.Parse(chunks[^1]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        var u = usage.RootElement.GetProperty("usage");
        Assert.Equal(10, u.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(15, u.GetProperty("total_tokens").GetInt32());
        Assert.Equal(4, u.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.True(u.GetProperty("estimated").GetBoolean());
    }

    [Fact]
    public void Chunks_Failure_IsAnErrorChunkTheAnswerStageFailsOn()
    {
        var chunks = Write(new MessageStarted("id", "m", 1), new AnswerFailed(new ApiError(529, "overloaded", "overloaded_error", null, "overloaded")));
        using var error = JsonDocument.Parse(chunks[^1]);
        Assert.Equal("overloaded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.True(Orchestrator.Actors.Streams.ChunkScan.TryScan(Encoding.UTF8.GetBytes(chunks[^1]), false, ref Unused, 0, out var facts));
        Assert.True(facts.HasError);
    }

    private static byte[]? Unused;

    [Fact]
    public void Reader_OpenAiStreamWithSeveralToolCalls_EndsEachCallWhenTheNextStarts()
    {
        string[] chunks =
        [
            """{"id":"c","created":5,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"a","arguments":""}}]}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":1}"}}]}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"b","arguments":"{}"}}]}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_cache_hit_tokens":2}}""",
            "[DONE]",
        ];
        Assert.Equal(
        [
            "start c gpt 5",
            "tool 0/0 call_a a",
            "args 0/0 {\"x\":1}",
            "end 0/0",
            "tool 0/1 call_b b",
            "args 0/1 {}",
            "end 0/1",
            "finish 0 ToolCalls",
            $"usage {new TokenUsage(9, 3, 2)}",
        ], Read(chunks).Select(Describe).ToList());
    }

    [Fact]
    public void Reader_NotJson_IsSkippedNotThrown()
    {
        var events = new List<AnswerEvent>();
        Assert.False(new ChatChunkReader().Read("{not json"u8, events));
        Assert.Empty(events);
    }
}
