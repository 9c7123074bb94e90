using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Actors.Dialects.Anthropic;

namespace Orchestrator.Tests.Dialects.Anthropic;

public sealed class MessagesCompletionTests
{
    private static JsonNode Translate(string chatCompletion) =>
        JsonNode.Parse(MessagesCompletion.Translate(Encoding.UTF8.GetBytes(chatCompletion), "claude-front", 42))!;

    [Fact]
    public void Completion_Text_BecomesAnthropicMessage()
    {
        var message = Translate("""
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}}
            """);
        Assert.Equal("""{"id":"msg_1","type":"message","role":"assistant","model":"claude-front","content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}}""",
            message.ToJsonString());
    }

    [Fact]
    public void Completion_ThinkingTextAndToolCalls_InAnthropicOrderWithStopReasonToolUse()
    {
        var message = Translate("""
            {"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Checking.","reasoning_content":"Hmm","reasoning_signature":"sig==",
              "tool_calls":[{"id":"toolu_A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},
                            {"id":"toolu_B","type":"function","function":{"name":"now","arguments":""}}]},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":120,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":100,"cache_write_tokens":7}}}
            """);
        var content = message["content"]!.AsArray();
        Assert.Equal("""{"type":"thinking","thinking":"Hmm","signature":"sig=="}""", content[0]!.ToJsonString());
        Assert.Equal("""{"type":"text","text":"Checking."}""", content[1]!.ToJsonString());
        Assert.Equal("""{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{"city":"Oslo"}}""", content[2]!.ToJsonString());
        Assert.Equal("""{"type":"tool_use","id":"toolu_B","name":"now","input":{}}""", content[3]!.ToJsonString());
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal(13, (int)message["usage"]!["input_tokens"]!);
        Assert.Equal(100, (int)message["usage"]!["cache_read_input_tokens"]!);
        Assert.Equal(7, (int)message["usage"]!["cache_creation_input_tokens"]!);
    }

    [Theory]
    [InlineData("length", "max_tokens")]
    [InlineData("content_filter", "refusal")]
    [InlineData("tool_calls", "tool_use")]
    public void Completion_FinishReason_MapsToStopReason(string finish, string expected)
    {
        var message = Translate($$$"""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"{{{finish}}}"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""");
        Assert.Equal(expected, (string?)message["stop_reason"]);
    }

    [Fact]
    public void Completion_NoUsage_IsEstimatedNeverZero()
    {
        var message = Translate("""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"abcdefgh"},"finish_reason":"stop"}]}""");
        var usage = message["usage"]!;
        Assert.Equal(42, (int)usage["input_tokens"]!);
        Assert.Equal(2, (int)usage["output_tokens"]!);
        Assert.True((bool)usage["estimated"]!);
    }
}
