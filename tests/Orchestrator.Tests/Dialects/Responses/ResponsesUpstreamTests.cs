using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.Dialects.Responses;

public sealed class ResponsesUpstreamTests
{
    [Fact]
    public void Write_KeepsEveryField_RewritingOnlyModelAndStream()
    {
        var body = JsonDocument.Parse("""{"model":"client-id","stream":false,"client_metadata":{"a":1},"tools":[{"type":"web_search"}],"input":[{"type":"additional_tools","tools":[]}],"include":["reasoning.encrypted_content"]}""").RootElement;
        var sent = JsonDocument.Parse(ResponsesUpstream.Write(new NativeRequest(Dialect.OpenAiResponses, body), "up", stream: true)).RootElement;
        Assert.Equal("up", sent.GetProperty("model").GetString());
        Assert.True(sent.GetProperty("stream").GetBoolean());
        foreach (var name in (string[])["client_metadata", "tools", "input", "include"])
            Assert.Equal(body.GetProperty(name).GetRawText(), sent.GetProperty(name).GetRawText());
        Assert.Equal(6, sent.EnumerateObject().Count());
    }

    [Fact]
    public void ToChatCompletion_ReadsTextCallsFinishAndUsage_ForTheEngine()
    {
        var response = """
            {"id":"resp_1","object":"response","created_at":5,"status":"completed","model":"up",
             "output":[{"type":"reasoning","encrypted_content":"x"},
                       {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi"}]},
                       {"type":"custom_tool_call","call_id":"c1","name":"exec","input":"exit()"},
                       {"type":"function_call","call_id":"c2","name":"f","arguments":"{\"a\":1}"}],
             "usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":13}}
            """;
        var chat = JsonDocument.Parse(ResponsesUpstream.ToChatCompletion(Encoding.UTF8.GetBytes(response), "up")).RootElement;
        var choice = chat.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("Hi", choice.GetProperty("message").GetProperty("content").GetString());
        var calls = choice.GetProperty("message").GetProperty("tool_calls");
        Assert.Equal("{\"input\":\"exit()\"}", calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("c2", calls[1].GetProperty("id").GetString());
        var usage = chat.GetProperty("usage");
        Assert.Equal((10, 3, 4), (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32()));
    }
}
