using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.Dialects.Responses;

public sealed class ResponsesEncoderTests
{
    private static readonly ResponseEcho Echo = new(JsonDocument.Parse("""{"model":"client-model","input":"x","instructions":"Be brief.","metadata":{"k":"v"},"tools":[]}""").RootElement);
    private static readonly TokenUsage Usage = new(100, 20, CacheReadTokens: 60, ReasoningTokens: 5);

    /// <summary>The events written, as (event line, data JSON); every event's line names the type its data carries.</summary>
    private static List<(string Type, JsonElement Data)> Run(Action<ResponsesEncoder, IBufferWriter<byte>> write)
    {
        var encoder = new ResponsesEncoder(Echo, 1700000000, "abc");
        var output = new ArrayBufferWriter<byte>();
        write(encoder, output);
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.EndsWith("\n\n", text);
        var events = new List<(string, JsonElement)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            var type = lines[0]["event: ".Length..];
            var data = JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement;
            Assert.Equal(type, data.GetProperty("type").GetString());
            events.Add((type, data));
        }
        // sequence_number: monotonic from 0, one per event.
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Item2.GetProperty("sequence_number").GetInt32()));
        return events;
    }

    private static List<(string Type, JsonElement Data)> Run(params AnswerEvent[] answer) => Run((encoder, output) =>
    {
        foreach (var e in answer) encoder.Encode(e, output);
        encoder.Complete(output);
    });

    [Fact]
    public void Text_WritesTheDocumentedSequence_AndCompletesWithUsage()
    {
        var events = Run(
            new MessageStarted("chatcmpl-1", "upstream-model", 1700000001),
            new TextDelta(0, "Hel"),
            new TextDelta(0, "lo"),
            new Finished(0, FinishReason.Stop),
            new UsageReported(Usage));

        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.completed",
        ], events.Select(e => e.Type));

        var created = events[0].Data.GetProperty("response");
        Assert.Equal("resp_abc", created.GetProperty("id").GetString());
        Assert.Equal("response", created.GetProperty("object").GetString());
        Assert.Equal("in_progress", created.GetProperty("status").GetString());
        Assert.Equal("client-model", created.GetProperty("model").GetString());   // the client's name, not the upstream's
        Assert.Equal(1700000000, created.GetProperty("created_at").GetInt64());
        Assert.Equal(0, created.GetProperty("output").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("usage").ValueKind);
        Assert.Equal("Be brief.", created.GetProperty("instructions").GetString());
        Assert.Equal("v", created.GetProperty("metadata").GetProperty("k").GetString());

        var added = events[2].Data;
        Assert.Equal(0, added.GetProperty("output_index").GetInt32());
        var item = added.GetProperty("item");
        Assert.Equal("message", item.GetProperty("type").GetString());
        Assert.Equal("in_progress", item.GetProperty("status").GetString());
        Assert.Equal("assistant", item.GetProperty("role").GetString());
        Assert.StartsWith("msg_", item.GetProperty("id").GetString());
        Assert.Equal("", events[3].Data.GetProperty("part").GetProperty("text").GetString());

        var delta = events[4].Data;
        Assert.Equal(item.GetProperty("id").GetString(), delta.GetProperty("item_id").GetString());
        Assert.Equal(0, delta.GetProperty("content_index").GetInt32());
        Assert.Equal("Hel", delta.GetProperty("delta").GetString());
        Assert.Equal("Hello", events[6].Data.GetProperty("text").GetString());
        Assert.Equal("Hello", events[7].Data.GetProperty("part").GetProperty("text").GetString());
        Assert.Equal("completed", events[8].Data.GetProperty("item").GetProperty("status").GetString());

        var completed = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal("Hello", completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var usage = completed.GetProperty("usage");
        Assert.Equal(100, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(60, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(20, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Equal(120, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void TwoToolCallsAfterText_KeepTheirCallIds_AndCountOutputIndexes()
    {
        var events = Run(
            new MessageStarted("x", "m", 1),
            new TextDelta(0, "Let me check."),
            new ToolCallStarted(0, 0, "call_upstream_A", "weather"),
            new ToolArgumentsDelta(0, 0, "{\"city\":"),
            new ToolArgumentsDelta(0, 0, "\"Paris\"}"),
            new ToolCallEnded(0, 0),
            new ToolCallStarted(0, 1, "toolu_B", "now"),
            new ToolCallEnded(0, 1),
            new Finished(0, FinishReason.ToolCalls),
            new UsageReported(Usage));

        var items = events.Where(e => e.Type == "response.output_item.added").Select(e => e.Data).ToList();
        Assert.Equal([0, 1, 2], items.Select(i => i.GetProperty("output_index").GetInt32()));
        var first = items[1].GetProperty("item");
        Assert.Equal("function_call", first.GetProperty("type").GetString());
        Assert.StartsWith("fc_", first.GetProperty("id").GetString());
        Assert.Equal("call_upstream_A", first.GetProperty("call_id").GetString());
        Assert.Equal("weather", first.GetProperty("name").GetString());
        Assert.Equal("", first.GetProperty("arguments").GetString());
        Assert.Equal("in_progress", first.GetProperty("status").GetString());
        Assert.Equal("toolu_B", items[2].GetProperty("item").GetProperty("call_id").GetString());

        var deltas = events.Where(e => e.Type == "response.function_call_arguments.delta").Select(e => e.Data).ToList();
        Assert.Equal(2, deltas.Count);
        Assert.All(deltas, d => Assert.Equal(1, d.GetProperty("output_index").GetInt32()));
        Assert.All(deltas, d => Assert.Equal(first.GetProperty("id").GetString(), d.GetProperty("item_id").GetString()));

        var done = events.Where(e => e.Type == "response.function_call_arguments.done").Select(e => e.Data).ToList();
        Assert.Equal("{\"city\":\"Paris\"}", done[0].GetProperty("arguments").GetString());
        Assert.Equal("{}", done[1].GetProperty("arguments").GetString());   // a call with no arguments still has "{}"
        Assert.Equal(2, done[1].GetProperty("output_index").GetInt32());

        // The text item closes before the first call is announced: items never interleave.
        var order = events.Select(e => e.Type).ToList();
        Assert.True(order.IndexOf("response.output_text.done") < order.IndexOf("response.output_item.added", 3));

        var output = events[^1].Data.GetProperty("response").GetProperty("output");
        Assert.Equal(["message", "function_call", "function_call"], output.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
        Assert.Equal("{}", output[2].GetProperty("arguments").GetString());
        Assert.Equal("completed", events[^1].Data.GetProperty("response").GetProperty("status").GetString());
    }

    [Fact]
    public void Length_EndsWithResponseIncomplete()
    {
        var events = Run(new MessageStarted("x", "m", 1), new TextDelta(0, "cut"), new Finished(0, FinishReason.Length), new UsageReported(Usage));
        Assert.Equal("response.incomplete", events[^1].Type);
        var response = events[^1].Data.GetProperty("response");
        Assert.Equal("incomplete", response.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal("incomplete", response.GetProperty("output")[0].GetProperty("status").GetString());
        Assert.Equal(120, response.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void ContentFilter_EndsWithResponseIncomplete()
    {
        var events = Run(new MessageStarted("x", "m", 1), new Finished(0, FinishReason.ContentFilter));
        Assert.Equal("content_filter", events[^1].Data.GetProperty("response").GetProperty("incomplete_details").GetProperty("reason").GetString());
    }

    [Fact]
    public void Fail_MidAnswer_EndsWithResponseFailedAndNoDoneForTheCutItem()
    {
        var events = Run((encoder, output) =>
        {
            encoder.Encode(new MessageStarted("x", "m", 1), output);
            encoder.Encode(new TextDelta(0, "half"), output);
            encoder.Fail(ApiError.UpstreamFailed("The upstream went away."), output);
        });
        Assert.Equal("response.failed", events[^1].Type);
        Assert.DoesNotContain(events, e => e.Type is "response.output_item.done" or "response.completed" or "response.output_text.done");
        var response = events[^1].Data.GetProperty("response");
        Assert.Equal("failed", response.GetProperty("status").GetString());
        Assert.Equal("upstream_error", response.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("The upstream went away.", response.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("incomplete", response.GetProperty("output")[0].GetProperty("status").GetString());
    }

    [Fact]
    public void Fail_BeforeAnyEvent_StillStartsTheResponse()
    {
        var events = Run((encoder, output) => encoder.Fail(ApiError.NoProviderAvailable("none"), output));
        Assert.Equal(["response.created", "response.in_progress", "response.failed"], events.Select(e => e.Type));
    }

    [Fact]
    public void ThinkingThenText_IsAReasoningItemWithItsSignature_ThenTheMessage()
    {
        var events = Run(
            new MessageStarted("x", "m", 1),
            new ThinkingDelta(0, "Hmm, "),
            new ThinkingDelta(0, "easy."),
            new ThinkingSignature(0, "sig-xyz"),
            new TextDelta(0, "4"),
            new Finished(0, FinishReason.Stop));

        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added",
            "response.reasoning_text.delta", "response.reasoning_text.delta",
            "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.completed",
        ], events.Select(e => e.Type));
        Assert.Equal("Hmm, easy.", events[6].Data.GetProperty("text").GetString());
        var reasoning = events[8].Data.GetProperty("item");
        Assert.Equal("reasoning", reasoning.GetProperty("type").GetString());
        Assert.Equal("orc1.sig-xyz", reasoning.GetProperty("encrypted_content").GetString());
        Assert.Equal("Hmm, easy.", reasoning.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(1, events[9].Data.GetProperty("output_index").GetInt32());
    }

    [Fact]
    public void Refusal_IsARefusalPartOfTheMessage()
    {
        var events = Run(new MessageStarted("x", "m", 1), new RefusalDelta(0, "I can't."), new Finished(0, FinishReason.Stop));
        Assert.Contains(events, e => e.Type == "response.refusal.delta");
        Assert.Equal("I can't.", events.Single(e => e.Type == "response.refusal.done").Data.GetProperty("refusal").GetString());
        var part = events[^1].Data.GetProperty("response").GetProperty("output")[0].GetProperty("content")[0];
        Assert.Equal("refusal", part.GetProperty("type").GetString());
    }

    [Fact]
    public void KeepAlive_IsAnSseComment()
    {
        var encoder = new ResponsesEncoder(Echo, 1);
        Assert.Equal(": keep-alive\n\n", Encoding.UTF8.GetString(encoder.KeepAlive));
    }

    [Fact]
    public void NonStreamed_ChatCompletion_IsTheSameResponseObject()
    {
        var completion = """
            {"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"finish_reason":"tool_calls",
             "message":{"role":"assistant","content":"Checking.","reasoning_content":"think","tool_calls":[
               {"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}},
               {"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]}}],
             "usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39,"prompt_tokens_details":{"cached_tokens":10},"estimated":true}}
            """u8;
        var body = ResponsesCompletion.Translate(completion, Echo, 1700000000, idBase: "abc");
        Assert.NotNull(body);
        var response = JsonDocument.Parse(body).RootElement;
        Assert.Equal("resp_abc", response.GetProperty("id").GetString());
        Assert.Equal("completed", response.GetProperty("status").GetString());
        Assert.Equal("client-model", response.GetProperty("model").GetString());
        var output = response.GetProperty("output");
        Assert.Equal(["reasoning", "message", "function_call", "function_call"], output.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
        Assert.Equal("Checking.", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("call_1", output[2].GetProperty("call_id").GetString());
        Assert.Equal("{\"city\":\"Rome\"}", output[2].GetProperty("arguments").GetString());
        Assert.Equal("{}", output[3].GetProperty("arguments").GetString());
        Assert.All(output.EnumerateArray(), i => Assert.Equal("completed", i.GetProperty("status").GetString()));
        var usage = response.GetProperty("usage");
        Assert.Equal(30, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.True(usage.GetProperty("estimated").GetBoolean());
    }

    [Fact]
    public void NonStreamed_NotACompletion_IsNull()
    {
        Assert.Null(ResponsesCompletion.Translate("not json"u8, Echo, 1));
    }
}
