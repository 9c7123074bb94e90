using System.Net;
using System.Text;
using Orchestrator.Actors.Realtime;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// Two Orchestrator hosts chained over loopback: client → front host (provider kind websocket) → socket → second
/// host's /v1/realtime → its simulator. The socket runs through a proxy the test can cut mid-stream.
/// </summary>
public sealed class ChainedRelayTests : IAsyncLifetime
{
    private const string Request = """{"model":"chained","stream":true,"messages":[{"role":"user","content":"Tell me about relays"}]}""";

    private RelayHost _back = null!;
    private CuttableTcpProxy _proxy = null!;
    private RelayHost _front = null!;

    public async Task InitializeAsync()
    {
        _back = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-back"]
              providers { sim { kind = simulator, token-delay = 40ms, completion-tokens = 30 } }
              models { "chain-sim" { routes = [ { provider = sim } ] } }
            }
            """);
        _proxy = new CuttableTcpProxy(_back.BaseUrl.Port);
        _front = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
              upstream { retry-base-delay = 20ms }
              providers {
                back  { kind = websocket, base-url = "ws://127.0.0.1:{{_proxy.Port}}/v1/realtime", api-key = "sk-back" }
                local { kind = simulator, token-delay = 0ms, completion-tokens = 30 }
              }
              models { "chained" { routes = [ { provider = back, model = "chain-sim" }, { provider = local } ] } }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _front.DisposeAsync();
        await _proxy.DisposeAsync();
        await _back.DisposeAsync();
    }

    private async Task<string> DirectAnswerAsync()
    {
        using var client = _back.Client("sk-back");
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Request.Replace("chained", "chain-sim"), Encoding.UTF8, "application/json"));
        return Sse.Text(Sse.DataLines(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Chained_AnswerTravelsOverTheUpstreamSocket()
    {
        using var client = _front.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Request, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("back", response.Headers.GetValues("x-orchestrator-provider").Single());
        Assert.Equal(await DirectAnswerAsync(), Sse.Text(Sse.DataLines(body)));
        Assert.EndsWith("data: [DONE]\n\n", body);
    }

    [Fact]
    public async Task Chained_UpstreamSocketKilledMidStream_ClientStillGetsTheWholeAnswer()
    {
        var expected = await DirectAnswerAsync();
        using var client = _front.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Request, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var body = new StringBuilder();
        var events = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            body.Append(line).Append('\n');
            if (line.StartsWith("data: {", StringComparison.Ordinal) && ++events == 5) _proxy.Cut();   // mid-answer
        }

        var text = body.ToString();
        Assert.Equal(expected, Sse.Text(Sse.DataLines(text)));
        Assert.EndsWith("data: [DONE]\n\n", text);
        Assert.Contains("\"resumed\":1", text);
    }

    [Fact]
    public async Task RealtimeClient_StreamsAndReconnectsAfterTheSocketDies()
    {
        await using var realtime = new RealtimeClient(new Uri($"ws://127.0.0.1:{_proxy.Port}/v1/realtime"), "sk-back");
        var body = Encoding.UTF8.GetBytes(Request.Replace("chained", "chain-sim"));
        var expected = await DirectAnswerAsync();

        async Task<string> AnswerAsync()
        {
            var text = new StringBuilder();
            await foreach (var chunk in realtime.StreamAsync(body))
                foreach (var choice in chunk.Choices) text.Append(choice.Delta.Content);
            return text.ToString();
        }

        Assert.Equal(expected, await AnswerAsync());
        var accepted = _proxy.Accepted;
        _proxy.Cut();   // the socket dies between requests: the next request reconnects
        Assert.Equal(expected, await AnswerAsync());
        Assert.True(_proxy.Accepted > accepted);
    }
}
