namespace Orchestrator.Actors.Upstream;

/// <summary>
/// Gauges a client keeps while it works (sockets open, malformed events skipped), read by its provider actor for
/// <c>/v1/providers</c>. Written from socket and stream callbacks, hence Interlocked; nothing decides on them.
/// </summary>
public sealed class UpstreamMeters
{
    private int _openConnections;
    private long _skippedEvents;

    public int OpenConnections => Volatile.Read(ref _openConnections);
    public long SkippedEvents => Interlocked.Read(ref _skippedEvents);

    public void ConnectionOpened() => Interlocked.Increment(ref _openConnections);
    public void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);
    public void EventSkipped() => Interlocked.Increment(ref _skippedEvents);

    /// <summary>Read buffers the client's response bodies hold right now; a stream waiting on its upstream holds none.</summary>
    public Messages.Upstream.ReadBufferGauge ReadBuffers { get; } = new();
}
