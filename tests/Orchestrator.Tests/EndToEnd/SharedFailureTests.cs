using System.Net;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// When every route failed for the same reason, the client hears that reason in its own dialect (its SDK retries on
/// a 429 or a 529), not a 502 that hides it.
/// </summary>
public sealed class SharedFailureTests : IAsyncLifetime
{
    private RelayHost _relay = null!;

    public async Task InitializeAsync() => _relay = await RelayHost.StartAsync("""
        orchestrator {
          auth.keys = ["sk-test-client"]
          providers {
            limited-a { kind = simulator, fault = "status=429;retry-after=4s;times=all", upstream.max-retries = 0 }
            limited-b { kind = simulator, fault = "status=429;retry-after=2s;times=all", upstream.max-retries = 0 }
            busy-a    { kind = simulator, fault = "status=529;times=all", upstream.max-retries = 0 }
            busy-b    { kind = simulator, fault = "status=529;times=all", upstream.max-retries = 0 }
            broken    { kind = simulator, fault = "status=500;times=all", upstream.max-retries = 0 }
          }
          models {
            "limited" { routes = [ { provider = limited-a }, { provider = limited-b } ] }
            "busy"    { routes = [ { provider = busy-a }, { provider = busy-b } ] }
            "mixed"   { routes = [ { provider = busy-a }, { provider = broken } ] }
          }
        }
        """);

    public async Task DisposeAsync() => await _relay.DisposeAsync();

    private async Task<HttpResponseMessage> PostAsync(string path, string model)
    {
        using var client = _relay.Client();
        var body = path == "/v1/messages"
            ? $$"""{"model":"{{model}}","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"""
            : $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""";
        return await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
    }

    [Fact]
    public async Task AllRoutesRateLimited_Is429WithTheShortestRetryAfter()
    {
        using var response = await PostAsync("/v1/chat/completions", "limited");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("Retry-After").Single());
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task AllRoutesOverloaded_IsAnthropicsOverloadedError()
    {
        using var response = await PostAsync("/v1/messages", "busy");
        Assert.Equal(529, (int)response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("overloaded_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task RoutesFailingForDifferentReasons_AreStillOne502()
    {
        using var response = await PostAsync("/v1/chat/completions", "mixed");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }
}
