namespace Orchestrator.Actors.Realtime;

/// <summary>
/// One whole WebSocket message as <see cref="WebSocketFrames"/> reads it: a text message's payload (its own copy,
/// exactly as sent), or the marker for a binary message, whose bytes are read past and dropped.
/// </summary>
public sealed class WebSocketMessage
{
    /// <summary>Every binary message is the same to us: a protocol with JSON text frames has no use for the bytes.</summary>
    public static readonly WebSocketMessage Binary = new(ReadOnlyMemory<byte>.Empty, isBinary: true);

    private WebSocketMessage(ReadOnlyMemory<byte> payload, bool isBinary)
    {
        Payload = payload;
        IsBinary = isBinary;
    }

    public static WebSocketMessage Text(ReadOnlyMemory<byte> payload) => new(payload, isBinary: false);

    public bool IsBinary { get; }

    /// <summary>A text message's UTF-8 bytes; empty for a binary one.</summary>
    public ReadOnlyMemory<byte> Payload { get; }
}
