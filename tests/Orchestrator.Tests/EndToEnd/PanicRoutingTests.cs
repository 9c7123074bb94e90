using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// Every route of a model open at once (a blip that failed them all): the next requests still try them, as panic
/// trials, and a recovered provider is served again long before <c>breaker.reset-timeout</c>. Its own relay: the
/// shared fixture keeps its breakers from ever opening.
/// </summary>
public sealed class PanicRoutingTests
{
    /// <summary>An OpenAI-compatible provider that answers 500 while <see cref="Down"/>, and counts calls per model.</summary>
    private sealed class FlakyUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, int> _calls = new();

        private FlakyUpstream(WebApplication app) => _app = app;

        public volatile bool Down = true;

        public Uri BaseUrl { get; private set; } = null!;

        public int Calls(string model) => _calls.GetValueOrDefault(model);

        public static async Task<FlakyUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var fake = new FlakyUpstream(app);
            app.MapPost("/v1/chat/completions", fake.HandleAsync);
            await app.StartAsync();
            fake.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v1");
            return fake;
        }

        private async Task HandleAsync(HttpContext http)
        {
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
            var model = body.GetProperty("model").GetString()!;
            _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
            http.Response.ContentType = "application/json";
            if (Down)
            {
                http.Response.StatusCode = 500;
                await http.Response.WriteAsync("""{"error":{"message":"boom","type":"server_error","code":null}}""");
                return;
            }
            await http.Response.WriteAsync($$$"""
                {"id":"chatcmpl-flaky","object":"chat.completion","created":1700000000,"model":"{{{model}}}",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"back"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}
                """);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(RelayHost relay)
    {
        using var client = relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"panic","stream":false,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<Dictionary<string, string>> StatesAsync(RelayHost relay)
    {
        using var client = relay.Client("sk-test-admin");
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/providers"));
        return doc.RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("state").GetString()!);
    }

    [Fact]
    public async Task EveryRouteOpen_TriedAsPanicTrials_RecoveredProviderAnswersAndItsCircuitCloses()
    {
        await using var upstream = await FlakyUpstream.StartAsync();
        RelayHost? relay = null;
        try
        {
            relay = await RelayHost.StartAsync($$"""
                orchestrator {
                  logging.level = Warning
                  logging.requests = off
                  auth.keys = ["sk-test-client"]
                  admin.keys = ["sk-test-admin"]
                  # One failure opens a circuit, and it stays open for the whole test unless a trial closes it.
                  upstream { max-retries = 0, retry-base-delay = 20ms, breaker { max-failures = 1, reset-timeout = 10m } }
                  providers {
                    nokey { kind = openai, base-url = "{{upstream.BaseUrl}}" }
                    one   { kind = openai, base-url = "{{upstream.BaseUrl}}", api-key = "sk-one" }
                    two   { kind = openai, base-url = "{{upstream.BaseUrl}}", api-key = "sk-two" }
                  }
                  models {
                    "panic" { routes = [ { provider = nokey, model = "via-nokey" }, { provider = one, model = "via-one" }, { provider = two, model = "via-two" } ] }
                  }
                }
                """);

            // The blip: both routes fail and both circuits open.
            Assert.Equal(HttpStatusCode.BadGateway, (await PostAsync(relay)).Status);
            var states = await StatesAsync(relay);
            Assert.Equal(("open", "open"), (states["one"], states["two"]));

            // Still failing: each route is tried once more, and the client hears the upstream's failure, not a 503.
            var (status, body) = await PostAsync(relay);
            Assert.Equal(HttpStatusCode.BadGateway, status);
            Assert.DoesNotContain("no_provider_available", body);
            Assert.Equal((2, 2), (upstream.Calls("via-one"), upstream.Calls("via-two")));
            states = await StatesAsync(relay);
            Assert.Equal(("open", "open"), (states["one"], states["two"]));

            // Recovered, with ten minutes of reset-timeout still to go: the first route's trial answers and closes it.
            upstream.Down = false;
            (status, body) = await PostAsync(relay);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("\"back\"", body);
            Assert.Equal((3, 2), (upstream.Calls("via-one"), upstream.Calls("via-two")));
            states = await StatesAsync(relay);
            Assert.Equal(("healthy", "open"), (states["one"], states["two"]));

            // Back to normal routing: the closed route serves, the open one is still skipped.
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(relay)).Status);
            Assert.Equal((4, 2), (upstream.Calls("via-one"), upstream.Calls("via-two")));
            Assert.Equal(0, upstream.Calls("via-nokey"));   // a provider without a key is never tried
        }
        finally
        {
            if (relay is not null) await relay.DisposeAsync();
        }
    }
}
