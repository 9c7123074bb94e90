using System.Net.WebSockets;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>A socket reaching max-lifetime: notice, no new requests, the in-flight answer whole, then 1001.</summary>
public sealed class RealtimeLifetimeTests
{
    [Fact]
    public async Task Realtime_MaxLifetime_AnnouncesExpiryFinishesInFlightThenClosesGoingAway()
    {
        await using var relay = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
              realtime { max-lifetime = 2s, expiry-notice = 1500ms }
              providers { slow { kind = simulator, token-delay = 150ms, completion-tokens = 12 } }
              models { "slow" { routes = [ { provider = slow } ] } }
            }
            """);
        await using var socket = await TestSocket.ConnectAsync(relay.BaseUrl);
        await socket.SendAsync("""{"type":"chat.completions.create","id":"long","model":"slow","messages":[{"role":"user","content":"hi"}]}""");

        var sawExpiring = false;
        var sawRefusal = false;
        var done = false;
        while (await socket.ReceiveAsync(TimeSpan.FromSeconds(10)) is { } next)
        {
            switch (next.GetProperty("type").GetString())
            {
                case "session.expiring":
                    Assert.Equal(1500, next.GetProperty("reconnect_after_ms").GetInt64());
                    sawExpiring = true;
                    await socket.SendAsync("""{"type":"chat.completions.create","id":"late","model":"slow","messages":[{"role":"user","content":"hi"}]}""");
                    break;
                case "error":
                    Assert.Equal("late", next.GetProperty("id").GetString());
                    Assert.Equal("session_expiring", next.GetProperty("error").GetProperty("code").GetString());
                    sawRefusal = true;
                    break;
                case "chat.completions.done":
                    Assert.Equal("long", next.GetProperty("id").GetString());
                    Assert.True(sawExpiring, "the answer should still be running when the notice comes");
                    Assert.Equal(12, next.GetProperty("usage").GetProperty("completion_tokens").GetInt32());   // whole
                    done = true;
                    break;
            }
        }
        Assert.True(sawExpiring && sawRefusal && done);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.Socket.CloseStatus);   // 1001 going away
    }
}
