namespace Orchestrator.Actors.Upstream;

/// <summary>A connection reached max-lifetime: its provider routes new requests elsewhere; it stops once its streams end.</summary>
internal sealed record ConnectionRetiring(int ConnectionId);

/// <summary>An attempt on a connection is over (its request actor stopped): the provider's in-flight count drops.</summary>
internal sealed record AttemptClosed(string RequestId);

/// <summary>The provider's answer to <see cref="ConnectionRetiring"/>: no new attempt will come, stop once the last ends.</summary>
internal sealed record ConnectionReplaced
{
    public static readonly ConnectionReplaced Instance = new();
}
