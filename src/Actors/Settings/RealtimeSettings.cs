namespace Orchestrator.Actors.Settings;

/// <summary>The WebSocket front (<c>orchestrator.realtime</c>).</summary>
public sealed record RealtimeSettings(
    TimeSpan HeartbeatInterval,
    TimeSpan HeartbeatTimeout,
    TimeSpan MaxLifetime,
    TimeSpan ExpiryNotice,
    int MaxConcurrentRequests,
    int MaxMessageBytes,
    int SendBufferFrames,
    TimeSpan SendTimeout)
{
    internal static RealtimeSettings From(ConfigNode node)
    {
        var settings = new RealtimeSettings(
            node.Duration("heartbeat-interval"),
            node.Duration("heartbeat-timeout"),
            node.Duration("max-lifetime"),
            node.Duration("expiry-notice", allowZero: true),
            node.Int("max-concurrent-requests", 1, 100_000),
            node.Int("max-message-bytes", 1024),
            node.Int("send-buffer-frames", 1, 1_000_000),
            node.Duration("send-timeout"));
        if (settings.ExpiryNotice >= settings.MaxLifetime)
            throw new InvalidConfigException(node.KeyPath("expiry-notice"), "must be shorter than max-lifetime");
        return settings;
    }
}
