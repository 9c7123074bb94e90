using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Embedding;

/// <summary>The engine refused or could not answer a request; <see cref="Error"/> is what an HTTP caller would get.</summary>
public sealed class OrchestratorException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
