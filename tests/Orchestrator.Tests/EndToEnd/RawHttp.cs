using System.Net.Sockets;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>HTTP/1.1 by hand on a TCP socket, for what HttpClient will not send: a Content-Length with no body, headers a byte at a time.</summary>
public sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _tcp;

    private RawHttp(TcpClient tcp) => _tcp = tcp;

    public NetworkStream Stream => _tcp.GetStream();

    public static async Task<RawHttp> ConnectAsync(Uri relay)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(relay.Host, relay.Port);
        return new RawHttp(tcp);
    }

    public Task SendAsync(string text) => Stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    /// <summary>Everything the server sends until it closes the socket or <paramref name="within"/> passes.</summary>
    public async Task<string> ReadUntilClosedAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await Stream.ReadAsync(buffer, timeout.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }   // a reset after the answer
        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>The response head and as much body as arrives with it: enough for a short error answer.</summary>
    public async Task<string> ReadResponseAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var received = new StringBuilder();
        var buffer = new byte[8192];
        while (true)
        {
            var read = await Stream.ReadAsync(buffer, timeout.Token);
            if (read == 0) return received.ToString();
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            var text = received.ToString();
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd >= 0 && text.IndexOf("}}", headEnd, StringComparison.Ordinal) >= 0) return text;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
