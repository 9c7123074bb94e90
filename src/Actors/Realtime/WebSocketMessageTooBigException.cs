namespace Orchestrator.Actors.Realtime;

/// <summary>
/// The peer sent a WebSocket message longer than the configured cap. The peer's fault: the reading stage fails
/// rather than buffer without bound, and the host closes the socket with 1009 (message too big).
/// </summary>
public sealed class WebSocketMessageTooBigException(int maxMessageBytes)
    : Exception($"The peer sent a WebSocket message longer than the {maxMessageBytes}-byte limit.")
{
    public int MaxMessageBytes { get; } = maxMessageBytes;
}
