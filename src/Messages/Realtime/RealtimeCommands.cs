using Orchestrator.Messages.Chat;

namespace Orchestrator.Messages.Realtime;

/// <summary>What a client's text frame on <c>/v1/realtime</c> asked for, parsed and validated at the edge.</summary>
public interface IRealtimeCommand;

/// <summary><c>chat.completions.create</c>: <paramref name="ClientId"/> is the client's id for it, or null to be assigned one.</summary>
public sealed record RealtimeCreate(string? ClientId, ChatRequest Request) : IRealtimeCommand;

/// <summary><c>chat.completions.cancel</c>: stop that request, upstream included.</summary>
public sealed record RealtimeCancel(string ClientId) : IRealtimeCommand;

/// <summary>A frame that could not be acted on: answered with an error event, and the socket stays usable.</summary>
public sealed record RealtimeInvalid(string? ClientId, ApiError Error) : IRealtimeCommand;

/// <summary>The socket is gone (closed by the peer, or dead): everything on it stops.</summary>
public sealed record RealtimeClosed
{
    public static readonly RealtimeClosed Instance = new();
}

/// <summary>
/// One item for the socket's writer: a text frame, or the close that ends the socket.
/// <paramref name="CloseStatus"/> is a WebSocket close code (1001 going away, 1009 too big).
/// </summary>
public sealed record RealtimeOutgoing(ReadOnlyMemory<byte> Frame, int? CloseStatus = null, string? CloseReason = null)
{
    public static RealtimeOutgoing Close(int status, string reason) => new(ReadOnlyMemory<byte>.Empty, status, reason);
}

/// <summary>To <c>RealtimeSupervisor</c>: a socket was accepted; start the actor that owns it.</summary>
public sealed record StartRealtimeConnection(string ConnectionId, System.Threading.Channels.ChannelWriter<RealtimeOutgoing> Outgoing, string Caller)
{
    /// <summary>The ledger key every request on the socket is billed to; null for the config's own keys.</summary>
    public string? KeyId { get; init; }
}

/// <summary>The actor for <paramref name="ConnectionId"/>'s socket, ready for its commands.</summary>
public sealed record RealtimeConnectionStarted(string ConnectionId, Akka.Actor.IActorRef Connection);
