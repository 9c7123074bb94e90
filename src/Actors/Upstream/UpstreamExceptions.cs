namespace Orchestrator.Actors.Upstream;

/// <summary>The upstream's stream ended (EOF, reset) before a finish_reason: the provider's fault, the answer is cut.</summary>
public sealed class UpstreamTruncatedException(string message) : Exception(message);

/// <summary>The upstream went quiet past one of a request's time limits (first byte, first token, idle, total).</summary>
public sealed class UpstreamTimeoutException(string message) : TimeoutException(message);
