using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// /v1/chat/completions on gemini-kind routes, through the real relay to the fake Gemini API on loopback: the
/// request translated (the fake refuses what the real API refuses), the recorded responses decoded into chat chunks
/// or a chat completion, usage mapped, a 429 RESOURCE_EXHAUSTED falling back to the next route.
/// </summary>
public sealed class GeminiUpstreamTests(GeminiRelayFixture fixture) : IClassFixture<GeminiRelayFixture>
{
    private const string ToolsConversation = """
        "messages":[
          {"role":"system","content":"Use the tools."},
          {"role":"user","content":"Weather and time in Oslo?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_prev","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"call_prev","content":"14:05"},
          {"role":"user","content":"And the weather?"}],
        "tools":[
          {"type":"function","function":{"name":"get_weather","strict":true,"parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city","unit"],"additionalProperties":false}}},
          {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}],
        "tool_choice":"auto"
        """;

    private async Task<(HttpResponseMessage Response, string Body)> PostAsync(string json)
    {
        using var client = fixture.Relay.Client();
        var response = await client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(15));
        return (response, body);
    }

    private static List<JsonElement> Chunks(string body)
    {
        var lines = Sse.DataLines(body);
        Assert.Equal("[DONE]", lines[^1]);
        return lines.Take(lines.Count - 1).Select(l => JsonDocument.Parse(l).RootElement).ToList();
    }

    private static string? FinishReason(List<JsonElement> chunks) =>
        chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("finish_reason"))
            .Where(f => f.ValueKind == JsonValueKind.String)
            .Select(f => f.GetString())
            .Single();

    [Fact]
    public async Task Stream_Text_ChunksWithRoleTextFinishAndGeminiUsage()
    {
        var (response, body) = await PostAsync("""{"model":"g-text","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chunks = Chunks(body);
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("Hello, world!", Sse.Text(Sse.DataLines(body)));
        Assert.Equal("stop", FinishReason(chunks));
        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(1200, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(17, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(1217, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(1024, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(13, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Contains(fixture.Gemini.Requests, r => r.Path.EndsWith("/gemini-text:streamGenerateContent", StringComparison.Ordinal) && r.Query == "?alt=sse");
    }

    [Fact]
    public async Task NotStreamed_Text_ChatCompletionWithUsage()
    {
        var (response, body) = await PostAsync("""{"model":"g-text","messages":[{"role":"user","content":"Say hello"}],"max_tokens":64,"temperature":0.3}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var completion = JsonDocument.Parse(body).RootElement;
        Assert.Equal("Hello, world!", completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", completion.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(1024, completion.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(13, completion.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_ToolCalls_TwoCallsIndexed0And1WithIdsAndArguments()
    {
        var (response, body) = await PostAsync("""{"model":"g-tools","stream":true,""" + ToolsConversation + "}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chunks = Chunks(body);
        var deltas = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta"))
            .Where(d => d.TryGetProperty("tool_calls", out _))
            .SelectMany(d => d.GetProperty("tool_calls").EnumerateArray())
            .ToList();
        var byIndex = deltas.GroupBy(d => d.GetProperty("index").GetInt32()).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal([0, 1], byIndex.Keys.Order());
        foreach (var (index, name) in new[] { (0, "get_weather"), (1, "get_time") })
        {
            var first = byIndex[index][0];
            Assert.StartsWith("call_", first.GetProperty("id").GetString());
            Assert.Equal("function", first.GetProperty("type").GetString());
            Assert.Equal(name, first.GetProperty("function").GetProperty("name").GetString());
            Assert.All(byIndex[index].Skip(1), d => Assert.False(d.TryGetProperty("type", out _)));   // never repeated on continuations
        }
        var weather = string.Concat(byIndex[0].Select(d => d.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("celsius", JsonDocument.Parse(weather).RootElement.GetProperty("unit").GetString());
        Assert.Equal("{}", string.Concat(byIndex[1].Select(d => d.GetProperty("function").GetProperty("arguments").GetString())));
        Assert.Equal("Checking both.", Sse.Text(Sse.DataLines(body)));
        Assert.Equal("tool_calls", FinishReason(chunks));
    }

    [Fact]
    public async Task NotStreamed_ToolCalls_ToolCallsAndFinish()
    {
        var (response, body) = await PostAsync("""{"model":"g-tools",""" + ToolsConversation + "}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = JsonDocument.Parse(body).RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.GetProperty("function").GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Stream_Thinking_ReasoningContentAndSignature()
    {
        var (_, body) = await PostAsync("""{"model":"g-thinking","stream":true,"reasoning_effort":"medium","messages":[{"role":"user","content":"6*7?"}]}""");

        var deltas = Chunks(body).SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("delta")).ToList();
        Assert.Contains(deltas, d => d.TryGetProperty("reasoning_content", out var r) && r.GetString()!.Contains("Six times seven."));
        Assert.Contains(deltas, d => d.TryGetProperty("reasoning_signature", out var s) && s.GetString() == GeminiRecordings.TextSignature);
        Assert.Equal("The answer is 42.", Sse.Text(Sse.DataLines(body)));
    }

    [Fact]
    public async Task Stream_ResourceExhausted_FallsBackToTheNextRoute()
    {
        var before = fixture.Gemini.Calls("gemini-429");
        var (response, body) = await PostAsync("""{"model":"g-quota","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gemnext", response.Headers.GetValues("x-orchestrator-provider").Single());
        Assert.Equal("Hello, world!", Sse.Text(Sse.DataLines(body)));
        // Gemini's RetryInfo asked for 37s, past retry-max-delay: the next route, not a retry.
        Assert.Equal(before + 1, fixture.Gemini.Calls("gemini-429"));
    }

    [Fact]
    public async Task Stream_SafetyFinish_ContentFilter()
    {
        var (_, body) = await PostAsync("""{"model":"g-safety","stream":true,"messages":[{"role":"user","content":"How do I ..."}]}""");

        Assert.Equal("content_filter", FinishReason(Chunks(body)));
    }

    [Theory]
    [InlineData("g-safety")]
    [InlineData("g-blocked")]
    public async Task NotStreamed_Blocked_400ContentFilter(string model)
    {
        var (response, body) = await PostAsync($$"""{"model":"{{model}}","messages":[{"role":"user","content":"How do I ..."}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("content_filter", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Streamed_PromptBlocked_400ContentFilterAndNoRetry()
    {
        var (response, body) = await PostAsync("""{"model":"g-blocked","stream":true,"messages":[{"role":"user","content":"How do I ..."}]}""");

        // The block is the caller's fault: refused with its status before anything streamed, never retried as a 502.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("content_filter", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task NotStreamed_Untranslatable_400NamingTheField()
    {
        var (response, body) = await PostAsync("""{"model":"g-text","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"nope","content":"1"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("messages[1].tool_call_id", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Sdk_StreamingToolCalls_ParsedByTheOpenAiSdk()
    {
        var client = new ChatClient("g-tools", new ApiKeyCredential(GeminiRelayFixture.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });
        var options = new ChatCompletionOptions
        {
            Tools =
            {
                ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}""")),
                ChatTool.CreateFunctionTool("get_time", "Time"),
            },
        };
        var names = new Dictionary<int, string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Weather and time in Oslo?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.FunctionName is { } name) names[call.Index] = name;
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("get_weather", names[0]);
        Assert.Equal("get_time", names[1]);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(160, usage?.TotalTokenCount);
    }
}
