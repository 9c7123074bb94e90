using System.Net;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary><c>http.max-concurrent-requests</c>: past it, 503 + Retry-After at once; a stream holds its slot until it ends.</summary>
public sealed class ConcurrencyLimitTests
{
    private const string Chat = """{"model":"slow","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task Requests_PastTheLimit_503WithRetryAfterUntilStreamsEnd()
    {
        await using var relay = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
              http.max-concurrent-requests = 2
              providers { slow { kind = simulator, token-delay = 100ms, completion-tokens = 15 } }
              models { "slow" { routes = [ { provider = slow } ] } }
            }
            """);
        using var client = relay.Client();

        var held = new List<HttpResponseMessage>();
        for (var i = 0; i < 2; i++)
        {
            var response = await client.SendAsync(Post("/v1/chat/completions", Chat), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            held.Add(response);
        }

        using (var third = await client.PostAsync("/v1/chat/completions", Content(Chat)).WaitAsync(TimeSpan.FromSeconds(2)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), third.Headers.RetryAfter?.Delta);
            var error = await ChatCompletionsTests.ErrorOf(third);
            Assert.Equal("overloaded", error.GetProperty("code").GetString());
            Assert.Equal("api_error", error.GetProperty("type").GetString());
        }
        using (var anthropic = await client.SendAsync(Post("/v1/messages", """{"model":"slow","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, anthropic.StatusCode);
            Assert.NotNull(anthropic.Headers.RetryAfter);
            Assert.Contains("\"type\":\"overloaded_error\"", await anthropic.Content.ReadAsStringAsync());
        }

        // Read to the end of the chunked body: the slot is given back before the last chunk is written.
        foreach (var response in held)
        {
            Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync());
            response.Dispose();
        }

        using var after = await client.PostAsync("/v1/chat/completions", Content(Chat));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private static StringContent Content(string json) => new(json, Encoding.UTF8, "application/json");

    private static HttpRequestMessage Post(string path, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Content(json) };
        request.Headers.Add("x-api-key", "sk-test-client");
        return request;
    }
}
