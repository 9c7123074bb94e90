namespace Orchestrator.Actors.Settings;

/// <summary>How a provider's upstream connections behave (<c>orchestrator.upstream</c>, overridable per provider).</summary>
public sealed record UpstreamSettings(
    TimeSpan HeartbeatInterval,
    TimeSpan MaxLifetime,
    TimeSpan IdleTimeout,
    int MaxRetries,
    TimeSpan RetryBaseDelay,
    TimeSpan ConnectTimeout,
    TimeSpan FirstByteTimeout,
    int MaxEventBytes,
    long MaxResponseBytes,
    int MaxConnectionsPerServer)
{
    internal static UpstreamSettings From(ConfigNode node) => new(
        node.Duration("heartbeat-interval"),
        node.Duration("max-lifetime"),
        node.Duration("idle-timeout"),
        node.Int("max-retries", 0, 100),
        node.Duration("retry-base-delay", allowZero: true),
        node.Duration("connect-timeout"),
        node.Duration("first-byte-timeout"),
        node.Int("max-event-bytes", 1024),
        node.Long("max-response-bytes", 1024),
        node.Int("max-connections-per-server", 1));
}
