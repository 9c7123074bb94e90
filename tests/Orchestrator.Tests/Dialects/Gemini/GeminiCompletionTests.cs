using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Gemini;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Upstream;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Dialects.Gemini;

public sealed class GeminiCompletionTests
{
    private static JsonElement Completion(string whole)
    {
        var response = GeminiCompletion.Read(Encoding.UTF8.GetBytes(whole), "gemini-route-model");
        return JsonDocument.Parse(Assert.IsType<UpstreamCompletion>(response).Body).RootElement;
    }

    [Fact]
    public void Completion_Text_ChatCompletionWithUsageDetails()
    {
        var completion = Completion(GeminiRecordings.TextWhole);

        Assert.Equal(GeminiRecordings.TextId, completion.GetProperty("id").GetString());
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.Equal("gemini-2.5-flash", completion.GetProperty("model").GetString());
        var choice = completion.GetProperty("choices")[0];
        Assert.Equal("Hello, world!", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = completion.GetProperty("usage");
        Assert.Equal(1200, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(17, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(1217, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(1024, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(13, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public void Completion_Tools_ToolCallsWithArgumentsAndToolCallsFinish()
    {
        var choice = Completion(GeminiRecordings.ToolsWhole).GetProperty("choices")[0];

        var message = choice.GetProperty("message");
        Assert.Equal("Checking both.", message.GetProperty("content").GetString());
        Assert.Equal(GeminiRecordings.ToolSignature, message.GetProperty("reasoning_signature").GetString());
        var calls = message.GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.GetProperty("function").GetProperty("name").GetString()));
        Assert.Equal("Oslo", JsonDocument.Parse(calls[0].GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        Assert.Equal("{}", calls[1].GetProperty("function").GetProperty("arguments").GetString());
        Assert.All(calls, c => Assert.StartsWith("call_", c.GetProperty("id").GetString()));
        Assert.NotEqual(calls[0].GetProperty("id").GetString(), calls[1].GetProperty("id").GetString());
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void Completion_OnlyToolCalls_ContentNull()
    {
        var whole = """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_time"}}]},"finishReason":"STOP"}],"responseId":"r"}""";

        Assert.Equal(JsonValueKind.Null, Completion(whole).GetProperty("choices")[0].GetProperty("message").GetProperty("content").ValueKind);
    }

    [Fact]
    public void Completion_Thinking_ReasoningContentAndSignature()
    {
        var message = Completion(GeminiRecordings.ThinkingWhole).GetProperty("choices")[0].GetProperty("message");

        Assert.Equal("The answer is 42.", message.GetProperty("content").GetString());
        Assert.Equal("**Weighing the question**\n\nSix times seven.", message.GetProperty("reasoning_content").GetString());
        Assert.Equal(GeminiRecordings.TextSignature, message.GetProperty("reasoning_signature").GetString());
    }

    [Theory]
    [InlineData(GeminiRecordings.SafetyWhole, "SAFETY")]
    [InlineData(GeminiRecordings.PromptBlockedWhole, "PROHIBITED_CONTENT")]
    public void Completion_Blocked_RefusedAsCallersContentFilterFault(string whole, string reason)
    {
        var refusal = Assert.IsType<UpstreamRefusal>(GeminiCompletion.Read(Encoding.UTF8.GetBytes(whole), "m"));

        Assert.Equal(FailureKind.CallerFault, refusal.Failure.Kind);
        Assert.Equal(400, refusal.Failure.Status);
        Assert.Equal("content_filter", refusal.Failure.Code);
        Assert.Contains(reason, refusal.Failure.Message);
    }

    [Theory]
    [InlineData("<html>")]
    [InlineData("[]")]
    public void Completion_NotAnObject_ProtocolFailure(string whole) =>
        Assert.Throws<UpstreamProtocolException>(() => GeminiCompletion.Read(Encoding.UTF8.GetBytes(whole), "m"));
}
