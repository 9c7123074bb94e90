using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Orchestrator.Tests.Realtime;

/// <summary>
/// Two ends of a real WebSocket over loopback TCP, both ManagedWebSocket as Kestrel's is. The server end is wrapped
/// in a <see cref="CountingWebSocket"/>, so a test can see every receive the code under test makes.
/// </summary>
internal sealed class WebSocketPair : IAsyncDisposable
{
    private readonly TcpClient _clientTcp;
    private readonly TcpClient _serverTcp;

    private WebSocketPair(TcpClient clientTcp, TcpClient serverTcp)
    {
        _clientTcp = clientTcp;
        _serverTcp = serverTcp;
        // No keep-alive pings: every frame on the wire is one the test sent.
        Client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        Server = new CountingWebSocket(WebSocket.CreateFromStream(serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan }));
    }

    public WebSocket Client { get; }

    public CountingWebSocket Server { get; }

    public static async Task<WebSocketPair> ConnectAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var accepting = listener.AcceptTcpClientAsync();
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            return new WebSocketPair(client, await accepting);
        }
        finally
        {
            listener.Stop();
        }
    }

    public Task SendTextAsync(ReadOnlyMemory<byte> bytes, bool endOfMessage = true) =>
        Client.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage, CancellationToken.None).AsTask();

    /// <summary>The client's TCP connection goes away without a close frame (a crashed peer).</summary>
    public void DropClient()
    {
        Client.Abort();
        _clientTcp.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Client.Dispose();
        Server.Dispose();
        _clientTcp.Dispose();
        _serverTcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
