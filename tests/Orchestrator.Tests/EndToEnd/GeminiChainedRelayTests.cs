using System.Net;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// One relay's gemini-kind provider pointed at another relay's Gemini front: the first relay's Gemini request writer
/// and stream decoder read what the second relay's front reads and encodes, so the front speaks Gemini well enough for
/// the relay's own Gemini client (streamed and whole, text and tool calls, the health probe's model list).
/// </summary>
public sealed class GeminiChainedRelayTests
{
    private const string OuterKey = "sk-outer-client";
    private const string InnerKey = "sk-inner-client";

    private static async Task<(RelayHost Inner, RelayHost Outer)> StartAsync()
    {
        var inner = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{InnerKey}}"]
              providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 6 } }
              models { "inner-sim" { routes = [ { provider = sim } ] } }
            }
            """);
        var outer = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{OuterKey}}"]
              providers { inner { kind = gemini, base-url = "{{inner.BaseUrl}}v1beta", api-key = "{{InnerKey}}" } }
              models { "chained" { routes = [ { provider = inner, model = "inner-sim" } ] } }
            }
            """);
        return (inner, outer);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Chained_ChatThroughTheGeminiFront_AnswersWithTextAndUsage(bool stream)
    {
        var (inner, outer) = await StartAsync();
        await using (inner)
        await using (outer)
        {
            using var client = outer.Client(OuterKey);
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
                $$"""{"model":"chained","stream":{{(stream ? "true" : "false")}},"stream_options":{{(stream ? """{"include_usage":true}""" : "null")}},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}]}""",
                Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("inner", response.Headers.GetValues("x-orchestrator-provider").Single());
            if (stream)
            {
                Assert.EndsWith("data: [DONE]\n\n", body);
                var chunks = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e.StartsWith("data: {")).Select(e => JsonDocument.Parse(e[6..]).RootElement).ToArray();
                var text = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
                    .Where(c => c.GetProperty("delta").TryGetProperty("content", out var t) && t.ValueKind == JsonValueKind.String)
                    .Select(c => c.GetProperty("delta").GetProperty("content").GetString()));
                Assert.False(string.IsNullOrWhiteSpace(text));
                Assert.Contains(chunks, c => c.GetProperty("choices").EnumerateArray().Any(ch => ch.TryGetProperty("finish_reason", out var f) && f.GetString() == "stop"));
                Assert.Contains(chunks, c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object && u.GetProperty("completion_tokens").GetInt32() > 0);
            }
            else
            {
                var root = JsonDocument.Parse(body).RootElement;
                Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
                Assert.Equal("stop", root.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
                Assert.True(root.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
            }
        }
    }

    [Fact]
    public async Task Chained_ToolCallThroughTheGeminiFront_ArrivesAsAChatToolCall()
    {
        var (inner, outer) = await StartAsync();
        await using (inner)
        await using (outer)
        {
            using var client = outer.Client(OuterKey);
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent("""
                {"model":"chained","stream":true,"messages":[{"role":"user","content":"What time is it?"}],
                 "tools":[{"type":"function","function":{"name":"now","description":"The time","parameters":{"type":"object","properties":{}}}}],"tool_choice":"required"}
                """, Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Contains("\"tool_calls\"", body);
            Assert.Contains("\"name\":\"now\"", body);
            Assert.Contains("\"finish_reason\":\"tool_calls\"", body);
        }
    }
}
