using System.Diagnostics;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>Kestrel's limits, set from <c>http.*</c>: a slow-loris client trickling its headers loses the socket.</summary>
public sealed class SlowClientTests
{
    [Fact]
    public async Task Headers_TrickledAByteAtATime_DisconnectedAfterTheHeadersTimeout()
    {
        await using var relay = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              http.request-headers-timeout = 2s
            }
            """);
        await using var raw = await RawHttp.ConnectAsync(relay.BaseUrl);
        var head = Encoding.ASCII.GetBytes("POST /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nX-Slow: " + new string('a', 200));
        var clock = Stopwatch.StartNew();

        var closed = raw.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
        var sent = 0;
        try
        {
            // Four bytes a second: well past the timeout, the request is still not whole.
            while (!closed.IsCompleted && sent < head.Length)
            {
                await raw.Stream.WriteAsync(head.AsMemory(sent, 1));
                sent++;
                await Task.WhenAny(closed, Task.Delay(250));
            }
        }
        catch (IOException) { }   // the server reset the socket under the write
        var answer = await closed;

        Assert.True(sent < head.Length, "the server kept the socket while the whole head trickled in");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408"), answer);
    }
}
