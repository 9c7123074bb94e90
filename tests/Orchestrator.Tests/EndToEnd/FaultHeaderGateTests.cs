using System.Net;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>With <c>simulator.allow-fault-header</c> off (the default) the header is ignored: no failure, no error.</summary>
public sealed class FaultHeaderGateTests
{
    [Fact]
    public async Task FaultHeader_AllowFaultHeaderOff_IsIgnored()
    {
        await using var relay = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
              providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 3 } }
              models { "sim" { routes = [ { provider = sim } ] } }
            }
            """);
        using var client = relay.Client();
        foreach (var fault in new[] { "status=503;times=all", "drop-after=1;times=all", "not a plan" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"sim","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"),
                Headers = { { "x-simulator-fault", fault } },
            };
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(3, Sse.Text(Sse.DataLines(body)).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.EndsWith("data: [DONE]\n\n", body);
        }
    }
}
