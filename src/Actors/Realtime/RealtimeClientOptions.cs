namespace Orchestrator.Actors.Realtime;

/// <summary>How a <see cref="RealtimeClient"/> keeps its socket: ping cadence, dead-peer timeout, reconnect backoff, message cap.</summary>
public sealed record RealtimeClientOptions
{
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxReconnects { get; init; } = 5;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Largest server message read, like the server's realtime.max-message-bytes; a larger one closes the socket with 1009.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;
}
