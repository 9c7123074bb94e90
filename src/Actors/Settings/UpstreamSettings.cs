namespace Orchestrator.Actors.Settings;

/// <summary>How a provider's upstream connections behave (<c>orchestrator.upstream</c>, overridable per provider).</summary>
public sealed record UpstreamSettings(
    TimeSpan HeartbeatInterval,
    TimeSpan MaxLifetime,
    TimeSpan PoolIdleTimeout,
    int MaxRetries,
    TimeSpan RetryBaseDelay,
    TimeSpan RetryMaxDelay,
    TimeSpan ConnectTimeout,
    int MaxEventBytes,
    long MaxResponseBytes,
    int MaxConnectionsPerServer,
    BreakerSettings Breaker,
    TimeSpan? HealthCheckInterval,
    TimeSpan HealthCheckTimeout)
{
    internal static UpstreamSettings From(ConfigNode node) => new(
        node.Duration("heartbeat-interval"),
        node.Duration("max-lifetime"),
        node.Duration("pool-idle-timeout"),
        node.Int("max-retries", 0, 100),
        node.Duration("retry-base-delay", allowZero: true),
        node.Duration("retry-max-delay", allowZero: true),
        node.Duration("connect-timeout"),
        node.Int("max-event-bytes", 1024),
        node.Long("max-response-bytes", 1024),
        node.Int("max-connections-per-server", 1),
        BreakerSettings.From(node.Child("breaker")),
        node.OptionalDuration("health-check-interval"),
        node.Duration("health-check-timeout"));
}

/// <summary>A provider's circuit breaker (<c>upstream.breaker</c>).</summary>
public sealed record BreakerSettings(int MaxFailures, TimeSpan ResetTimeout)
{
    internal static BreakerSettings From(ConfigNode node) => new(node.Int("max-failures", 1), node.Duration("reset-timeout"));
}
