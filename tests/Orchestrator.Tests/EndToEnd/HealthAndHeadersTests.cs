using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Telemetry;

namespace Orchestrator.Tests.EndToEnd;

/// <summary><c>/healthz</c> and <c>/readyz</c> before, during and after the engine runs; <c>x-request-id</c> on every response.</summary>
public sealed class HealthAndHeadersTests
{
    private const string Config = """
        orchestrator {
          ledger.storage = memory   # its own: tests run in parallel, and one process runs a ledger at a time
          auth.keys = ["sk-test-client"]
          providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 3 } }
          default-models = off
          models { sim { routes = [ { provider = sim } ] } }
        }
        """;

    [Fact]
    public async Task Readyz_BeforeStartRunningAndAfterTheActorSystemStops_SaysWhy()
    {
        var file = Path.Combine(Path.GetTempPath(), $"orchestrator-test-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, Config);
        var app = OrchestratorApp.Build(["--urls", "http://127.0.0.1:0", "--config", file]);
        try
        {
            // Built, not started: the engine is not there yet.
            var health = app.Services.GetRequiredService<HealthCheckService>();
            var before = await health.CheckHealthAsync(check => check.Tags.Contains(TelemetryHosting.ReadyTag));
            Assert.Equal(HealthStatus.Unhealthy, before.Status);
            Assert.Contains("starting", before.Entries["engine"].Description);

            await app.StartAsync();
            var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };   // no key: probes need none

            var (status, body) = await GetAsync(client, "/readyz");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("healthy", body.GetProperty("status").GetString());
            Assert.Equal("6 providers, 1 models", body.GetProperty("checks").GetProperty("engine").GetString());
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/healthz")).Status);

            await app.Services.GetRequiredService<ActorSystem>().Terminate();
            (status, body) = await GetAsync(client, "/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unhealthy", body.GetProperty("status").GetString());
            Assert.Equal("the actor system has stopped", body.GetProperty("checks").GetProperty("engine").GetString());
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/healthz")).Status);   // the process still answers
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            File.Delete(file);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains(EdgeTelemetry.RequestIdHeader));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Responses_EveryEndpointAndError_CarryRequestId_WholeAnswersTheirOverhead()
    {
        await using var relay = await RelayHost.StartAsync(Config);
        using var client = relay.Client();
        using var anonymous = relay.Client(key: null);
        static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
        const string ok = """{"model":"sim","messages":[{"role":"user","content":"hi"}]}""";

        var cases = new (string What, Func<Task<HttpResponseMessage>> Send, HttpStatusCode Status)[]
        {
            ("whole answer", () => client.PostAsync("/v1/chat/completions", Json(ok)), HttpStatusCode.OK),
            ("stream", () => client.PostAsync("/v1/chat/completions", Json("""{"model":"sim","stream":true,"messages":[{"role":"user","content":"hi"}]}""")), HttpStatusCode.OK),
            ("messages", () => client.PostAsync("/v1/messages", Json("""{"model":"sim","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""")), HttpStatusCode.OK),
            ("responses", () => client.PostAsync("/v1/responses", Json("""{"model":"sim","input":"hi"}""")), HttpStatusCode.OK),
            ("no key", () => anonymous.PostAsync("/v1/chat/completions", Json(ok)), HttpStatusCode.Unauthorized),
            ("bad json", () => client.PostAsync("/v1/chat/completions", Json("{")), HttpStatusCode.BadRequest),
            ("unknown model", () => client.PostAsync("/v1/chat/completions", Json("""{"model":"nope","messages":[{"role":"user","content":"hi"}]}""")), HttpStatusCode.NotFound),
            ("unknown url", () => client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound),
            ("models", () => client.GetAsync("/v1/models"), HttpStatusCode.OK),
            ("metrics", () => anonymous.GetAsync("/metrics"), HttpStatusCode.OK),
        };
        var ids = new HashSet<string>();
        foreach (var (what, send, expected) in cases)
        {
            using var response = await send();
            await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{what}: {(int)response.StatusCode}");
            Assert.True(response.Headers.TryGetValues(EdgeTelemetry.RequestIdHeader, out var id), $"{what}: no x-request-id");
            Assert.True(ids.Add(id.Single()), $"{what}: x-request-id repeated");
            var overhead = response.Headers.TryGetValues(EdgeTelemetry.OverheadHeader, out var values) ? values.Single() : null;
            if (what is "whole answer" or "messages" or "responses")
            {
                Assert.NotNull(overhead);
                Assert.InRange(double.Parse(overhead, System.Globalization.CultureInfo.InvariantCulture), 0, 1000);
            }
            else Assert.Null(overhead);   // a stream's headers go before its overhead is known; errors have none
        }
    }
}
