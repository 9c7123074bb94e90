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
    UpstreamHttpVersion HttpVersion,
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
        HttpVersionOf(node),
        BreakerSettings.From(node.Child("breaker")),
        node.OptionalDuration("health-check-interval"),
        node.Duration("health-check-timeout"));

    // HOCON reads an unquoted 2 or 1.1 as a number; its text is the same either way.
    private static UpstreamHttpVersion HttpVersionOf(ConfigNode node)
    {
        var raw = node.String("http-version");
        return raw.Trim().ToLowerInvariant() switch
        {
            "auto" => UpstreamHttpVersion.Auto,
            "1.1" => UpstreamHttpVersion.Http11,
            "2" => UpstreamHttpVersion.Http2,
            _ => throw new InvalidConfigException(node.KeyPath("http-version"), $"'{raw}' is not auto, 1.1 or 2"),
        };
    }
}

/// <summary>Which HTTP version upstream requests use (<c>upstream.http-version</c>).</summary>
public enum UpstreamHttpVersion
{
    /// <summary>HTTP/2 where the server offers it in TLS ALPN, else HTTP/1.1; plain http:// is HTTP/1.1.</summary>
    Auto,
    /// <summary>HTTP/1.1 only: one socket per request in flight.</summary>
    Http11,
    /// <summary>HTTP/2 only, many streams per socket; on http:// cleartext h2c with prior knowledge.</summary>
    Http2,
}

/// <summary>A provider's circuit breaker (<c>upstream.breaker</c>).</summary>
public sealed record BreakerSettings(int MaxFailures, TimeSpan ResetTimeout)
{
    internal static BreakerSettings From(ConfigNode node) => new(node.Int("max-failures", 1), node.Duration("reset-timeout"));
}
