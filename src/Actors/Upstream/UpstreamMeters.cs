namespace Orchestrator.Actors.Upstream;

/// <summary>
/// Gauges a client keeps while it works (sockets open, read buffers held), read by its provider actor for
/// <c>/v1/providers</c>. Written from socket and stream callbacks, hence Interlocked; nothing decides on them.
/// </summary>
public sealed class UpstreamMeters
{
    private int _openConnections;

    public int OpenConnections => Volatile.Read(ref _openConnections);

    public void ConnectionOpened() => Interlocked.Increment(ref _openConnections);
    public void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    /// <summary>Read buffers the client's response bodies hold right now; a stream waiting on its upstream holds none.</summary>
    public Messages.Upstream.ReadBufferGauge ReadBuffers { get; } = new();
}
