namespace Orchestrator.Actors.Routing;

/// <summary>A replayed answer did not reproduce what the client already has: the replay strategy failed (nobody's fault).</summary>
public sealed class ReplayDivergedException(string message) : Exception(message);
