using System.Net;
using System.Text;
using System.Text.Json;
using Orchestrator.Tests.EndToEnd;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// A Messages client answered by an Anthropic upstream gets the upstream's own events: its usage figures in
/// message_start (not an estimate), and event and block types the relay has never heard of, intact.
/// </summary>
public sealed class NativeAnswerTests
{
    [Fact]
    public async Task Messages_AnthropicUpstream_StreamIsTheUpstreamsOwnEvents()
    {
        await using var upstream = await ScriptedAgentUpstream.StartAsync("Read", "{}");
        upstream.Novelties = true;
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["sk-client"]
            orchestrator.providers.anthropic { base-url = "{{upstream.Root}}", api-key = "{{ScriptedAgentUpstream.AnthropicKey}}" }
            """);
        using var client = relay.Client("sk-client");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"claude-sonnet-5-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n')).Where(lines => lines[0].StartsWith("event: ", StringComparison.Ordinal))
            .Select(lines => (Type: lines[0]["event: ".Length..], Data: JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement)).ToList();
        Assert.Equal("message_start", events[0].Type);
        var usage = events[0].Data.GetProperty("message").GetProperty("usage");
        Assert.Equal(21, usage.GetProperty("input_tokens").GetInt32());   // the upstream's count
        Assert.False(usage.TryGetProperty("estimated", out _));
        Assert.Contains(events, e => e.Type == "content_block_start" && e.Data.GetProperty("content_block").GetProperty("type").GetString() == "redacted_thinking");
        Assert.Contains(events, e => e.Type == "future_event" && e.Data.GetProperty("detail").GetString() == "from next month");
        Assert.Equal("message_stop", events[^1].Type);
        Assert.Single(events, e => e.Type == "message_stop");
    }

    [Fact]
    public async Task Chat_AnthropicUpstream_FieldsItCannotTakeAreNamedNotRefused()
    {
        await using var upstream = await ScriptedAgentUpstream.StartAsync("Read", "{}");
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["sk-client"]
            orchestrator.providers.anthropic { base-url = "{{upstream.Root}}", api-key = "{{ScriptedAgentUpstream.AnthropicKey}}" }
            """);
        using var client = relay.Client("sk-client");
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"claude-sonnet-5-5","seed":7,"logprobs":false,"temperature":0.2,"messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("seed, logprobs", response.Headers.GetValues("x-orchestrator-dropped").Single());
        var sent = Assert.Single(upstream.Requests).Body;
        Assert.False(sent.TryGetProperty("seed", out _));
        Assert.Equal(0.2, sent.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public async Task Responses_ProviderWithoutAResponsesEndpoint_IsAnsweredThroughChatCompletions()
    {
        // The shipped openai provider has responses = on; this OpenAI-compatible server serves chat completions only.
        await using var upstream = await ScriptedAgentUpstream.StartAsync("Read", "{}");
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["sk-client"]
            orchestrator.providers.openai { base-url = "{{upstream.Root}}", api-key = "{{ScriptedAgentUpstream.OpenAiKey}}" }
            """);
        using var client = relay.Client("sk-client");
        foreach (var attempt in (int[])[1, 2])
        {
            using var response = await client.PostAsync("/v1/responses", new StringContent(
                """{"model":"gpt-6.1-sol","input":"hello","store":false}""", Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"attempt {attempt}: {text}");
            using var body = JsonDocument.Parse(text);
            Assert.Equal("completed", body.RootElement.GetProperty("status").GetString());
        }
        Assert.Equal(2, upstream.Requests.Count(r => r.Path == "/v1/chat/completions"));
    }

    [Fact]
    public async Task Messages_ChatUpstream_ClaudeCodesFieldsAreNamedInTheDroppedHeader()
    {
        await using var upstream = await ScriptedAgentUpstream.StartAsync("Read", "{}");
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["sk-client"]
            orchestrator.providers.anthropic { kind = openai, base-url = "{{upstream.Root}}", api-key = "{{ScriptedAgentUpstream.OpenAiKey}}" }
            """);
        using var client = relay.Client("sk-client");
        using var response = await client.PostAsync("/v1/messages?beta=true", new StringContent("""
            {"model":"claude-opus-5-5","max_tokens":64,"thinking":{"type":"adaptive","display":"omitted"},"context_management":{"edits":[]},
             "output_config":{"effort":"high"},"messages":[{"role":"user","content":"hello"}]}
            """, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("thinking, context_management, output_config", response.Headers.GetValues("x-orchestrator-dropped").Single());
        Assert.Equal("message", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString());
    }
}
