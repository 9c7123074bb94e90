using System.Text;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Tests.Dialects.Responses;

public sealed class ResponsesStreamDecoderTests
{
    private static List<AnswerEvent> Decode(params string[] events)
    {
        var decoder = new ResponsesStreamDecoder();
        var decoded = new List<AnswerEvent>();
        foreach (var e in events) decoder.Decode(Encoding.UTF8.GetBytes(e), decoded);
        return decoded;
    }

    [Fact]
    public void TextAndUsage_AreWhatTheEngineBills()
    {
        var events = Decode(
            """{"type":"response.created","response":{"id":"resp_1","model":"m","created_at":7,"output":[]}}""",
            """{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning"}}""",
            """{"type":"response.output_text.delta","item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hi"}""",
            """{"type":"response.something_new","x":1}""",
            "not json",
            """{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":11,"input_tokens_details":{"cached_tokens":8},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":15}}}""");
        var started = Assert.IsType<MessageStarted>(events[0]);
        Assert.Equal(("resp_1", "m", 7L), (started.Id, started.Model, started.Created));
        Assert.Equal("Hi", Assert.IsType<TextDelta>(events[1]).Text);
        Assert.Equal(FinishReason.Stop, Assert.IsType<Finished>(events[2]).Reason);
        var usage = Assert.IsType<UsageReported>(events[3]).Usage;
        Assert.Equal(new TokenUsage(11, 4, CacheReadTokens: 8, ReasoningTokens: 1), usage);
        Assert.Equal(4, events.Count);
    }

    [Fact]
    public void Calls_FunctionAndCustom_AreToolCalls_AndTheAnswerEndsForTools()
    {
        var events = Decode(
            """{"type":"response.created","response":{"id":"r"}}""",
            """{"type":"response.output_item.added","output_index":0,"item":{"type":"custom_tool_call","call_id":"call_1","name":"exec","input":""}}""",
            """{"type":"response.custom_tool_call_input.delta","output_index":0,"delta":"text(1)"}""",
            """{"type":"response.output_item.done","output_index":0,"item":{"type":"custom_tool_call","call_id":"call_1","name":"exec","input":"text(1)"}}""",
            """{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"call_2","name":"f","arguments":""}}""",
            """{"type":"response.function_call_arguments.delta","output_index":1,"delta":"{}"}""",
            """{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","call_id":"call_2","name":"f"}}""",
            """{"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":1}}}""");
        Assert.Equal(["MessageStarted", "ToolCallStarted", "ToolArgumentsDelta", "ToolCallEnded", "ToolCallStarted", "ToolArgumentsDelta", "ToolCallEnded", "Finished", "UsageReported"], events.Select(e => e.GetType().Name));
        Assert.Equal((1, "call_2"), (((ToolCallStarted)events[4]).Index, ((ToolCallStarted)events[4]).Id));
        Assert.Equal(FinishReason.ToolCalls, ((Finished)events[7]).Reason);
    }

    [Theory]
    [InlineData("""{"type":"response.incomplete","response":{"incomplete_details":{"reason":"max_output_tokens"}}}""", FinishReason.Length)]
    [InlineData("""{"type":"response.incomplete","response":{"incomplete_details":{"reason":"content_filter"}}}""", FinishReason.ContentFilter)]
    public void Incomplete_EndsWithItsReason(string json, FinishReason reason) =>
        Assert.Equal(reason, Decode(json).OfType<Finished>().Single().Reason);

    [Theory]
    [InlineData("""{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}}""", 503)]
    [InlineData("""{"type":"error","code":"rate_limit_exceeded","message":"slow down"}""", 429)]
    public void Failures_AreFailures(string json, int status) =>
        Assert.Equal(status, Decode(json).OfType<AnswerFailed>().Single().Error.Status);
}
