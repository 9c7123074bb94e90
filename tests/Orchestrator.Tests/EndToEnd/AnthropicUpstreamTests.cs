using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// <c>/v1/chat/completions</c> through the real relay onto an anthropic-kind route (the fake Anthropic API on
/// loopback): the answer arrives as OpenAI chat chunks or a chat completion, failures retry and fall back as on any route.
/// </summary>
public sealed class AnthropicUpstreamTests : IAsyncLifetime
{
    private FakeAnthropic _fake = null!;
    private RelayHost _relay = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeAnthropic.StartAsync();
        _relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["sk-test-client"]
              upstream { retry-base-delay = 20ms, retry-max-delay = 200ms, breaker.max-failures = 1000 }
              model-defaults { first-byte-timeout = 5s, first-token-timeout = 5s, idle-timeout = 5s }
              providers {
                claude { kind = anthropic, base-url = "{{_fake.BaseUrl}}", api-key = "{{FakeAnthropic.ApiKey}}" }
                sim    { kind = simulator, token-delay = 0ms, completion-tokens = 5 }
              }
              models {
                "claude"          { routes = [ { provider = claude, model = "claude-text" } ], max-tokens-default = 999 }
                "claude-tools"    { routes = [ { provider = claude, model = "claude-tools" } ] }
                "claude-thinking" { routes = [ { provider = claude, model = "claude-thinking" } ] }
                "claude-busy"     { routes = [ { provider = claude, model = "claude-529" }, { provider = sim } ] }
                "claude-flaky"    { routes = [ { provider = claude, model = "claude-overloaded-once" } ] }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _fake.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string body)
    {
        using var client = _relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(20)));
    }

    private static List<JsonElement> Chunks(string body)
    {
        var lines = Sse.DataLines(body);
        Assert.Equal("[DONE]", lines[^1]);
        return lines.Take(lines.Count - 1).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private static IEnumerable<JsonElement> Deltas(IEnumerable<JsonElement> chunks) =>
        chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => c.GetProperty("choices")[0].GetProperty("delta"));

    private static IEnumerable<string> FinishReasons(IEnumerable<JsonElement> chunks) =>
        chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("finish_reason"))
            .Where(f => f.ValueKind == JsonValueKind.String).Select(f => f.GetString()!);

    [Fact]
    public async Task Stream_Text_ChatChunksWithRoleFirstAndUsageMapped()
    {
        var (status, body) = await PostAsync("""
            {"model":"claude","stream":true,"stream_options":{"include_usage":true},"n":1,"logprobs":false,
             "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var chunks = Chunks(body);
        Assert.Equal("assistant", Deltas(chunks).First().GetProperty("role").GetString());
        Assert.Equal("Hello, world!", Sse.Text(Sse.DataLines(body)));
        Assert.Equal(["stop"], FinishReasons(chunks));
        Assert.All(chunks, c => Assert.Equal(AnthropicRecordings.TextId, c.GetProperty("id").GetString()));
        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(40, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(52, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("prompt_tokens_details").GetProperty("cache_write_tokens").GetInt32());

        var sent = Assert.Single(_fake.Requests).Body;   // what reached the API passed its checks (or it would have said 400)
        Assert.Equal("claude-text", sent.GetProperty("model").GetString());
        Assert.Equal(999, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Be brief.", sent.GetProperty("system").GetString());
    }

    [Fact]
    public async Task Stream_NoIncludeUsage_NoUsageChunk()
    {
        var (status, body) = await PostAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var chunks = Chunks(body);
        Assert.Equal("Hello, world!", Sse.Text(Sse.DataLines(body)));
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
    }

    [Fact]
    public async Task Stream_ToolCalls_Indexes01UpstreamIdsEmptyArgumentsAsBracesFinishToolCalls()
    {
        var (status, body) = await PostAsync("""
            {"model":"claude-tools","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather and time in Paris?"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
                      {"type":"function","function":{"name":"get_time"}}],"tool_choice":"auto","parallel_tool_calls":true}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var chunks = Chunks(body);
        Assert.Equal("assistant", Deltas(chunks).First().GetProperty("role").GetString());
        Assert.Equal("Let me check.", Sse.Text(Sse.DataLines(body)));
        var calls = Deltas(chunks).Where(d => d.TryGetProperty("tool_calls", out _)).SelectMany(d => d.GetProperty("tool_calls").EnumerateArray()).ToList();
        Assert.Equal([0, 1], calls.Select(c => c.GetProperty("index").GetInt32()).Distinct());
        Assert.Equal([AnthropicRecordings.WeatherToolId, AnthropicRecordings.TimeToolId],
            calls.Where(c => c.TryGetProperty("id", out _)).Select(c => c.GetProperty("id").GetString()));
        string Arguments(int index) => string.Concat(calls.Where(c => c.GetProperty("index").GetInt32() == index)
            .Select(c => c.GetProperty("function").TryGetProperty("arguments", out var a) ? a.GetString() : ""));
        Assert.Equal("Paris", JsonDocument.Parse(Arguments(0)).RootElement.GetProperty("city").GetString());
        Assert.Equal("{}", Arguments(1));
        Assert.Equal(["tool_calls"], FinishReasons(chunks));
        Assert.Equal(472, chunks[^1].GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_Thinking_ReasoningContentAndSignature()
    {
        var (status, body) = await PostAsync("""{"model":"claude-thinking","stream":true,"messages":[{"role":"user","content":"27*453?"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var deltas = Deltas(Chunks(body)).ToList();
        Assert.Equal("27 * 453 = 12231", string.Concat(deltas.Where(d => d.TryGetProperty("reasoning_content", out _)).Select(d => d.GetProperty("reasoning_content").GetString())));
        Assert.Equal(AnthropicRecordings.Signature, deltas.Single(d => d.TryGetProperty("reasoning_signature", out _)).GetProperty("reasoning_signature").GetString());
        Assert.Equal("12231", Sse.Text(Sse.DataLines(body)));
    }

    [Fact]
    public async Task NotStreamed_Text_ChatCompletionWithUsage()
    {
        var (status, body) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal("Hello, world!", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(40, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.False(Assert.Single(_fake.Requests).Body.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task NotStreamed_ToolCalls_WithTheUpstreamIds()
    {
        var (status, body) = await PostAsync("""
            {"model":"claude-tools","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var calls = choice.GetProperty("message").GetProperty("tool_calls");
        Assert.Equal(AnthropicRecordings.WeatherToolId, calls[0].GetProperty("id").GetString());
        Assert.Equal("{}", calls[1].GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task Overloaded529_FallsBackToTheNextRoute()
    {
        var (status, body) = await PostAsync("""{"model":"claude-busy","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var chunks = Chunks(body);
        Assert.NotEmpty(Sse.Text(Sse.DataLines(body)));   // the simulator's answer
        Assert.Equal(["stop"], FinishReasons(chunks));
        Assert.True(_fake.Calls("claude-529") >= 1);
    }

    [Fact]
    public async Task InStreamOverloadedBeforeContent_RetriedIntoOneWholeAnswer()
    {
        var (status, body) = await PostAsync("""
            {"model":"claude-flaky","stream":true,"user":"u-flaky","messages":[{"role":"user","content":"hi"}]}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var chunks = Chunks(body);
        Assert.Equal("Hello, world!", Sse.Text(Sse.DataLines(body)));
        Assert.Equal(["stop"], FinishReasons(chunks));
        Assert.Single(Deltas(chunks), d => d.TryGetProperty("role", out _));
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("error", out _));
        Assert.Equal(2, _fake.Calls("claude-overloaded-once", "u-flaky"));
    }

    [Fact]
    public async Task OpenAiSdk_ToolRoundTrip_CallsStreamAndTheirResultsGoBackAsToolResultBlocks()
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(_relay.BaseUrl, "/v1") };
        var tools = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather in a city.", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")), ChatTool.CreateFunctionTool("get_time") },
        };
        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        List<ChatMessage> messages = [new UserChatMessage("Weather and time in Paris?")];
        await foreach (var update in new ChatClient("claude-tools", new ApiKeyCredential("sk-test-client"), options).CompleteChatStreamingAsync(messages, tools))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.ToolCallId is { } id) ids[call.Index] = id;
                if (call.FunctionName is { } name) names[call.Index] = name;
                var piece = call.FunctionArgumentsUpdate?.ToString() ?? "";
                (arguments.TryGetValue(call.Index, out var sb) ? sb : arguments[call.Index] = new StringBuilder()).Append(piece);
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal([AnthropicRecordings.WeatherToolId, AnthropicRecordings.TimeToolId], new[] { ids[0], ids[1] });
        Assert.Equal("{}", arguments[1].ToString());
        Assert.Equal(472 + 89, usage?.TotalTokenCount);

        messages.Add(new AssistantChatMessage(
        [
            ChatToolCall.CreateFunctionToolCall(ids[0], names[0], BinaryData.FromString(arguments[0].ToString())),
            ChatToolCall.CreateFunctionToolCall(ids[1], names[1], BinaryData.FromString(arguments[1].ToString())),
        ]));
        messages.Add(new ToolChatMessage(ids[0], "18C and sunny"));
        messages.Add(new ToolChatMessage(ids[1], "12:00"));
        ChatCompletion answer = await new ChatClient("claude", new ApiKeyCredential("sk-test-client"), options).CompleteChatAsync(messages, tools);

        Assert.Equal("Hello, world!", answer.Content[0].Text);
        var sent = _fake.Requests.Last().Body.GetProperty("messages");
        Assert.Equal(3, sent.GetArrayLength());
        Assert.Equal(["tool_use", "tool_use"], sent[1].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("type").GetString()));
        Assert.Equal([AnthropicRecordings.WeatherToolId, AnthropicRecordings.TimeToolId],
            sent[2].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("tool_use_id").GetString()));
    }
}
