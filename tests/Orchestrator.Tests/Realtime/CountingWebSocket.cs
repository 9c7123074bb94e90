using System.Net.WebSockets;

namespace Orchestrator.Tests.Realtime;

/// <summary>A socket that counts its receives and remembers the buffer each was given; everything else passes through.</summary>
internal sealed class CountingWebSocket(WebSocket inner) : WebSocket
{
    private int _receives;
    private int _pending;
    private int _lastBufferLength = -1;

    /// <summary>Receives started so far.</summary>
    public int Receives => Volatile.Read(ref _receives);

    /// <summary>A receive has started and not yet returned.</summary>
    public bool Pending => Volatile.Read(ref _pending) > 0;

    /// <summary>The length of the buffer the latest receive was given (0: a zero-byte wait).</summary>
    public int LastBufferLength => Volatile.Read(ref _lastBufferLength);

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _receives);
        Volatile.Write(ref _lastBufferLength, buffer.Length);
        Interlocked.Increment(ref _pending);
        try
        {
            return await inner.ReceiveAsync(buffer, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the code under test receives into Memory<byte>");

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;
    public override string? CloseStatusDescription => inner.CloseStatusDescription;
    public override WebSocketState State => inner.State;
    public override string? SubProtocol => inner.SubProtocol;
    public override void Abort() => inner.Abort();
    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);
    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);
    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
    public override void Dispose() => inner.Dispose();
}
