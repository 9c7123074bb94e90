using System.Net;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// <c>GET /metrics</c> after a scripted scenario on the simulator's fault plans: a retry, a fallback that opens a
/// breaker, a resumed stream, a stream held open, an unknown model; scraped over a real socket.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsTests
{
    // Names no other test uses, so the samples asserted are this test's alone.
    private const string Config = """
        orchestrator {
          auth.keys = ["sk-test-client"]
          providers {
            tel-retry { kind = simulator, token-delay = 0ms, completion-tokens = 6, fault = "status=503" }
            tel-down { kind = simulator, token-delay = 0ms, fault = "status=503;times=all", upstream { max-retries = 0, breaker { max-failures = 2 } } }
            tel-ok { kind = simulator, token-delay = 0ms, completion-tokens = 6, upstream { health-check-interval = 200ms } }
            tel-cut { kind = simulator, token-delay = 0ms, completion-tokens = 12, fault = "drop-after=3" }
            tel-slow { kind = simulator, token-delay = 100ms, completion-tokens = 30 }
          }
          models {
            tel-retry { routes = [ { provider = tel-retry } ] }
            tel-fallback { routes = [ { provider = tel-down }, { provider = tel-ok } ] }
            tel-resume { routes = [ { provider = tel-cut } ] }
            tel-plain { routes = [ { provider = tel-ok } ] }
            tel-slow { routes = [ { provider = tel-slow } ] }
          }
        }
        """;

    private static StringContent Chat(string model, bool stream) =>
        new($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json");

    private static async Task<string> PostAsync(HttpClient client, string model, bool stream, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.PostAsync("/v1/chat/completions", Chat(model, stream));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{model}: {(int)response.StatusCode} {body}");
        return body;
    }

    [Fact]
    public async Task Metrics_ScriptedScenario_ScrapedWithNamesLabelsAndValues()
    {
        await using var relay = await RelayHost.StartAsync(Config);
        using var client = relay.Client();
        using var scraper = relay.Client(key: null);   // /metrics needs no key

        await PostAsync(client, "tel-retry", stream: false);                       // a 503, retried after a backoff
        Assert.EndsWith("data: [DONE]\n\n", await PostAsync(client, "tel-resume", stream: true));   // cut after 3 tokens, resumed
        await PostAsync(client, "tel-fallback", stream: false);                    // tel-down fails, tel-ok answers
        await PostAsync(client, "tel-fallback", stream: false);                    // again: tel-down's breaker opens
        await PostAsync(client, "tel-plain", stream: true);
        await PostAsync(client, "made-up-model-x7", stream: false, HttpStatusCode.NotFound);

        PromText metrics = null!;
        await AwaitAssertAsync(async () =>
        {
            metrics = await PromText.ScrapeAsync(scraper);
            Assert.True(metrics.Value("orchestrator_health_check_seconds_count", ("provider", "tel-ok"), ("outcome", "ok")) >= 1, "no health check yet");
        });

        Assert.Equal(1, metrics.Value("orchestrator_requests_total", ("model", "tel-retry"), ("provider", "tel-retry"), ("front", "chat"), ("status", "200")));
        Assert.Equal(2, metrics.Value("orchestrator_requests_total", ("model", "tel-fallback"), ("provider", "tel-ok"), ("status", "200")));
        Assert.Equal(1, metrics.Value("orchestrator_requests_total", ("model", "unknown"), ("provider", "none"), ("status", "404")));
        Assert.Equal(1, metrics.Value("orchestrator_retries_total", ("provider", "tel-retry")));
        Assert.Equal(2, metrics.Value("orchestrator_fallbacks_total", ("provider", "tel-down")));
        Assert.Equal(2, metrics.Value("orchestrator_circuit_state", ("provider", "tel-down")));   // open
        Assert.Equal(0, metrics.Value("orchestrator_circuit_state", ("provider", "tel-ok")));     // closed
        Assert.Equal(1, metrics.Value("orchestrator_resumes_total", ("strategy", "replay"), ("outcome", "resumed")));

        // GenAI conventions: token usage by type, TTFT of the streams, the duration of every request.
        Assert.Equal(1, metrics.Value("gen_ai_client_token_usage_count", ("gen_ai_request_model", "tel-retry"), ("gen_ai_provider_name", "tel-retry"), ("gen_ai_token_type", "output")));
        Assert.Equal(6, metrics.Value("gen_ai_client_token_usage_sum", ("gen_ai_request_model", "tel-retry"), ("gen_ai_token_type", "output")));
        Assert.Equal(1, metrics.Value("gen_ai_server_time_to_first_token_seconds_count", ("gen_ai_request_model", "tel-plain"), ("gen_ai_provider_name", "tel-ok")));
        Assert.Equal(1, metrics.Value("gen_ai_server_time_to_first_token_seconds_count", ("gen_ai_request_model", "tel-resume")));
        Assert.Equal(2, metrics.Value("gen_ai_server_request_duration_seconds_count", ("gen_ai_request_model", "tel-fallback")));
        Assert.True(metrics.Value("gen_ai_server_request_duration_seconds_sum", ("gen_ai_request_model", "tel-fallback")) > 0);

        // The relay's overhead: a request answered by its first attempt, none for the retried one.
        Assert.Equal(1, metrics.Value("orchestrator_overhead_seconds_count", ("model", "tel-plain"), ("provider", "tel-ok"), ("front", "chat")));
        var overhead = metrics.Value("orchestrator_overhead_seconds_sum", ("model", "tel-plain"));
        Assert.InRange(overhead, 1e-7, 1.0);
        Assert.Empty(metrics.Find("orchestrator_overhead_seconds_count", ("model", "tel-retry")));

        // Bounded labels: a model nobody configured never becomes a label value.
        Assert.DoesNotContain("made-up-model-x7", metrics.Text);
        Assert.DoesNotContain("Say hello", metrics.Text);
    }

    [Fact]
    public async Task Metrics_StreamHeldOpen_CountedInActiveStreamsUntilItEnds()
    {
        await using var relay = await RelayHost.StartAsync(Config);
        using var client = relay.Client();
        using var scraper = relay.Client(key: null);
        // The instrument is process-wide: a stream another host opened before this one's exporter existed and closes
        // now counts -1 here. Start from a settled count, then expect exactly this stream on top of it.
        var before = await SettledAsync(async () => (await PromText.ScrapeAsync(scraper)).Value("orchestrator_active_streams", ("front", "chat")));

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("tel-slow", stream: true) })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await AwaitAssertAsync(async () =>
                Assert.Equal(before + 1, (await PromText.ScrapeAsync(scraper)).Value("orchestrator_active_streams", ("front", "chat"))));
            Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync());
        }
        await AwaitAssertAsync(async () =>
            Assert.Equal(before, (await PromText.ScrapeAsync(scraper)).Value("orchestrator_active_streams", ("front", "chat"))));
    }

    /// <summary>A value read until two reads 300 ms apart agree (at most 10 s): nothing else is moving it.</summary>
    private static async Task<double> SettledAsync(Func<Task<double>> read)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var last = await read();
        while (true)
        {
            await Task.Delay(300);
            var now = await read();
            if (now == last || DateTime.UtcNow >= deadline) return now;
            last = now;
        }
    }

    /// <summary>Retries <paramref name="check"/> until it passes, for at most 10 s.</summary>
    internal static async Task AwaitAssertAsync(Func<Task> check)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                await check();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
