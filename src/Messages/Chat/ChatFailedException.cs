namespace Orchestrator.Messages.Chat;

/// <summary>
/// Ends an answer's stream when the relay gave up on it: <see cref="Error"/> is what the client is told (the
/// original failure, or an aggregate naming every route). Its message is safe to show.
/// </summary>
public sealed class ChatFailedException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
