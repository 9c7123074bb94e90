namespace Orchestrator.Actors.Realtime;

/// <summary>
/// The client's fault: it keeps sending (bad frames, refused requests) while not reading what we answer, so our own
/// frames waiting for the send queue reached send-buffer-frames. The socket is closed rather than buffer more.
/// </summary>
public sealed class RealtimeClientNotReadingException(string connectionId, int pending)
    : Exception($"Realtime socket {connectionId}: the client is not reading; {pending} frames are waiting to be sent");
