using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Realtime;

/// <summary>The server answered a request on <c>/v1/realtime</c> with an error event: <see cref="Error"/> is what it said.</summary>
public sealed class RealtimeException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
