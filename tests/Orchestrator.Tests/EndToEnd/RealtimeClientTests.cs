using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text;
using Orchestrator.Actors.Realtime;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The .NET realtime client against a real host whose sockets expire quickly.</summary>
public sealed class RealtimeClientTests
{
    [Fact]
    public async Task Client_SessionExpiring_SendsNewRequestsOnAFreshSocketWhileTheOldOneFinishes()
    {
        await using var host = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-rt"]
              realtime { max-lifetime = 1500ms, expiry-notice = 1200ms }
              providers { slow { kind = simulator, token-delay = 100ms, completion-tokens = 10 } }
              models { "slow" { routes = [ { provider = slow } ] } }
            }
            """);
        await using var proxy = new CuttableTcpProxy(host.BaseUrl.Port);   // counts the sockets the client opens
        await using var client = new RealtimeClient(new Uri($"ws://127.0.0.1:{proxy.Port}/v1/realtime"), "sk-rt");
        var expiring = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.SessionExpiring += () => expiring.TrySetResult();
        var body = """{"model":"slow","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray();

        async Task<(string Text, int Socket)> AnswerAsync(TaskCompletionSource? streaming = null)
        {
            var text = new StringBuilder();
            var socket = 0;
            await foreach (var chunk in client.StreamAsync(body))
            {
                if (socket == 0) socket = proxy.Accepted;   // which socket (in connect order) carried this answer
                streaming?.TrySetResult();
                foreach (var choice in chunk.Choices) text.Append(choice.Delta.Content);
            }
            return (text.ToString(), socket);
        }

        // The first answer takes ~1 s; the socket announces expiry 0.3 s in. A second request started after that
        // (and after the first answer has begun, so a slow machine cannot reorder the two) must go to a new socket,
        // and both answers must be whole.
        var firstStreaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = AnswerAsync(firstStreaming);
        await Task.WhenAll(expiring.Task, firstStreaming.Task).WaitAsync(TimeSpan.FromSeconds(10));
        var second = await AnswerAsync();
        var firstResult = await first;

        Assert.Equal(10, firstResult.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(firstResult.Text, second.Text);
        Assert.Equal(1, firstResult.Socket);
        Assert.Equal(2, second.Socket);
    }
}

/// <summary><see cref="RealtimeClient"/> reads a server's messages under a cap, as the server reads the client's.</summary>
public sealed class RealtimeClientLimitTests
{
    [Fact]
    public async Task Client_ServerMessageOverTheCap_Closes1009AndFailsTheRequest()
    {
        var closeStatus = new TaskCompletionSource<System.Net.WebSockets.WebSocketCloseStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var (app, url) = await LoopbackApp.StartAsync(web =>
        {
            web.UseWebSockets();
            web.Map("/v1/realtime", async (Microsoft.AspNetCore.Http.HttpContext http) =>
            {
                using var socket = await http.WebSockets.AcceptWebSocketAsync("orchestrator.v1");
                var buffer = new byte[64 * 1024];
                await socket.ReceiveAsync(buffer, CancellationToken.None);   // the request
                var huge = System.Text.Encoding.UTF8.GetBytes($$"""{"type":"chat.completions.chunk","id":"c1","pad":"{{new string('x', 2 * 1024 * 1024)}}"}""");
                try
                {
                    await socket.SendAsync(huge, System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
                    while (true)
                    {
                        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                        if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close) break;
                    }
                    closeStatus.TrySetResult(socket.CloseStatus);
                }
                catch (Exception)
                {
                    closeStatus.TrySetResult(null);   // aborted before a close frame arrived
                }
            });
        });
        try
        {
            await using var client = new RealtimeClient(new Uri($"ws://127.0.0.1:{url.Port}/v1/realtime"), null,
                new RealtimeClientOptions { MaxMessageBytes = 64 * 1024, MaxReconnects = 0 });
            var body = System.Text.Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""");

            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await foreach (var _ in client.StreamAsync(body)) { }
            }).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig, await closeStatus.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
