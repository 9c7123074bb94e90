namespace Orchestrator.Actors.Upstream;

/// <summary>
/// Gauges a client keeps while it works (sockets open, read buffers held), read by its provider actor for
/// <c>/v1/providers</c>. Written from socket and stream callbacks, hence Interlocked; nothing decides on them.
/// With its <paramref name="provider"/>'s name, sockets are also counted in <c>orchestrator_upstream_connections</c>.
/// </summary>
public sealed class UpstreamMeters(string? provider = null)
{
    private int _openConnections;

    public int OpenConnections => Volatile.Read(ref _openConnections);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _openConnections);
        if (provider is not null) Telemetry.OrchestratorMetrics.ConnectionOpened(provider);
    }

    public void ConnectionClosed()
    {
        Interlocked.Decrement(ref _openConnections);
        if (provider is not null) Telemetry.OrchestratorMetrics.ConnectionClosed(provider);
    }

    /// <summary>Read buffers the client's response bodies hold right now; a stream waiting on its upstream holds none.</summary>
    public Messages.Upstream.ReadBufferGauge ReadBuffers { get; } = new();
}
