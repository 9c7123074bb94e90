using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Actors.Upstream;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Dialects.Anthropic;

/// <summary>A whole Anthropic message as an OpenAI chat completion.</summary>
public sealed class AnthropicCompletionTests
{
    private static JsonElement Convert(string message)
    {
        using var doc = JsonDocument.Parse(AnthropicCompletion.ToChatCompletion(Encoding.UTF8.GetBytes(message), "claude-up"));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Convert_TextMessage_ContentStopAndUsageWithTheCache()
    {
        var completion = Convert(AnthropicRecordings.TextMessage);

        Assert.Equal(AnthropicRecordings.TextId, completion.GetProperty("id").GetString());
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.Equal("claude-up", completion.GetProperty("model").GetString());
        var choice = completion.GetProperty("choices")[0];
        Assert.Equal("""{"role":"assistant","content":"Hello, world!"}""", JsonSerializer.Serialize(choice.GetProperty("message")));
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(
            """{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52,"prompt_tokens_details":{"cached_tokens":10,"cache_write_tokens":5}}""",
            JsonSerializer.Serialize(completion.GetProperty("usage")));
    }

    [Fact]
    public void Convert_TextAndTools_ToolCallsWithTheUpstreamIdsAndArgumentsAsJsonStrings()
    {
        var message = Convert(AnthropicRecordings.ToolsMessage).GetProperty("choices")[0];

        Assert.Equal("tool_calls", message.GetProperty("finish_reason").GetString());
        Assert.Equal(
            """{"role":"assistant","content":"Let me check.","tool_calls":[""" +
            """{"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"get_weather","arguments":"{\u0022city\u0022:\u0022Paris\u0022,\u0022unit\u0022:\u0022c\u0022}"}},""" +
            """{"id":"toolu_01HvDcbqUQj3cXxXWH3Qj6nA","type":"function","function":{"name":"get_time","arguments":"{}"}}]}""",
            JsonSerializer.Serialize(message.GetProperty("message")));
    }

    [Fact]
    public void Convert_OnlyTools_ContentNull()
    {
        var message = Convert(AnthropicRecordings.ToolsOnlyMessage).GetProperty("choices")[0].GetProperty("message");

        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        Assert.Equal(1, message.GetProperty("tool_calls").GetArrayLength());
    }

    [Fact]
    public void Convert_Thinking_ReasoningWithSignatureAndLength()
    {
        var completion = Convert(AnthropicRecordings.ThinkingMessage);
        var choice = completion.GetProperty("choices")[0];

        Assert.Equal("12231", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("27 * 453 = 12231", choice.GetProperty("message").GetProperty("reasoning_content").GetString());
        Assert.Equal(AnthropicRecordings.Signature, choice.GetProperty("message").GetProperty("reasoning_signature").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(140, completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(100, completion.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1]")]
    [InlineData("""{"type":"error","error":{"type":"api_error","message":"x"}}""")]
    public void Convert_NotAMessage_ProtocolFailure(string body)
    {
        Assert.Throws<UpstreamProtocolException>(() => Convert(body));
    }
}
