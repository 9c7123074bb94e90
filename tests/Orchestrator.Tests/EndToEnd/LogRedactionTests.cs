using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The realtime <c>api_key</c> and Gemini <c>key</c> query parameters never reach a log line, the request log included.</summary>
[Collection(Name)]
public sealed class LogRedactionTests
{
    /// <summary>
    /// Alone, after the parallel tests: Serilog's hosting sets the process-wide Log.Logger (Akka's logger writes there),
    /// and a host that stops closes whichever logger that is, so another test's host stopping meanwhile could close
    /// this one's and lose the lines this test reads.
    /// </summary>
    public const string Name = "log-redaction";

    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class Alone;

    [Fact]
    public async Task RequestLog_RealtimeApiKeyQuery_IsRedacted()
    {
        var good = "sk-good-" + Guid.NewGuid().ToString("N");
        var wrong = "sk-wrong-" + Guid.NewGuid().ToString("N");
        // As the console shows it: strings unquoted.
        var sink = new CapturingLogSink("{Message:lj}");
        await using (var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Debug, requests = on }
              auth.keys = ["{{good}}"]
              providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 2 } }
              models { "sim" { routes = [ { provider = sim } ] } }
            }
            """, services => services.AddSingleton<ILogEventSink>(sink)))
        {
            await using (var socket = await TestSocket.ConnectAsync(relay.BaseUrl, $"model=sim&api_key={good}", bearer: null))
            {
                await socket.SendAsync("""{"type":"chat.completions.create","id":"r1","messages":[{"role":"user","content":"hi"}]}""");
                Assert.NotNull(await socket.ReceiveAsync());
            }
            var refused = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(relay.BaseUrl, $"api_key={wrong}&model=sim", bearer: null));
            Assert.Contains("401", refused.Message);
        }   // stopped: every line is written

        var lines = sink.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("HTTP GET /v1/realtime?model=sim&api_key=*** responded 101"));
        Assert.Contains(lines, l => l.Contains("HTTP GET /v1/realtime?api_key=***&model=sim responded 401"));
        Assert.DoesNotContain(lines, l => l.Contains(good) || l.Contains(wrong));
    }

    [Fact]
    public async Task RequestLog_GeminiKeyQuery_IsRedacted()
    {
        var good = "AIza-good-" + Guid.NewGuid().ToString("N");
        var wrong = "AIza-wrong-" + Guid.NewGuid().ToString("N");
        var sink = new CapturingLogSink("{Message:lj}");
        await using (var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Debug, requests = on }
              auth.keys = ["{{good}}"]
              providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 2 } }
              models { "sim" { routes = [ { provider = sim } ] } }
            }
            """, services => services.AddSingleton<ILogEventSink>(sink)))
        {
            using var client = relay.Client(key: null);
            const string body = """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""";
            using (var answered = await client.PostAsync($"/v1beta/models/sim:streamGenerateContent?alt=sse&key={good}", new StringContent(body)))
            {
                Assert.Equal(200, (int)answered.StatusCode);
                await answered.Content.ReadAsStringAsync();
            }
            using var refused = await client.PostAsync($"/v1beta/models/sim:generateContent?key={wrong}", new StringContent(body));
            Assert.Equal(401, (int)refused.StatusCode);
            Assert.DoesNotContain(wrong, await refused.Content.ReadAsStringAsync());
        }   // stopped: every line is written

        var lines = sink.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("HTTP POST /v1beta/models/sim:streamGenerateContent?alt=sse&key=*** responded 200"));
        Assert.Contains(lines, l => l.Contains("HTTP POST /v1beta/models/sim:generateContent?key=*** responded 401"));
        Assert.DoesNotContain(lines, l => l.Contains(good) || l.Contains(wrong));
    }
}
