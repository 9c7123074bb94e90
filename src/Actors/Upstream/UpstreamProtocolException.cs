namespace Orchestrator.Actors.Upstream;

/// <summary>The provider's answer broke the protocol (a chunk that is not JSON, an error event mid-stream). Its fault.</summary>
public sealed class UpstreamProtocolException(string message) : Exception(message);
