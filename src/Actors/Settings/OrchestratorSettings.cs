using System.Collections.Immutable;
using Akka.Configuration;

namespace Orchestrator.Actors.Settings;

/// <summary>Everything the service reads from configuration, bound and validated once at start.</summary>
public sealed record OrchestratorSettings(
    HttpSettings Http,
    AuthSettings Auth,
    ImmutableDictionary<string, ProviderSettings> Providers,
    ImmutableArray<ModelSettings> Models,
    RealtimeSettings Realtime,
    LedgerSettings Ledger)
{
    public static OrchestratorSettings FromConfig(Config config)
    {
        var root = ConfigNode.Root(config);
        if (!root.Has("orchestrator")) throw new InvalidConfigException("orchestrator", "is missing");
        var orchestrator = root.Child("orchestrator");
        // The ledger's journal and snapshot store are configured from orchestrator.ledger (LedgerPersistence): a
        // hand-written akka.persistence section would be overridden without a word, so it is refused instead.
        if (root.Has("akka") && root.Child("akka").Has("persistence"))
            throw new InvalidConfigException("akka.persistence", "is set from orchestrator.ledger; configure the ledger's storage there");

        var upstream = UpstreamSettings.From(orchestrator.Child("upstream"));
        var providerDefaults = orchestrator.Child("provider-defaults");
        var providersNode = orchestrator.Child("providers");
        var providers = providersNode.Keys
            .Select(name => ProviderSettings.From(name, providersNode.Child(name).WithFallback(providerDefaults), upstream, orchestrator.Child("upstream")))
            .ToImmutableDictionary(p => p.Name, StringComparer.Ordinal);

        var modelDefaults = orchestrator.Child("model-defaults");
        var routeDefaults = orchestrator.Child("route-defaults");
        var modelsNode = orchestrator.Child("models");
        var models = modelsNode.Keys
            .Select(id => ModelSettings.From(id, modelsNode.Child(id).WithFallback(modelDefaults), providers, routeDefaults))
            .ToImmutableArray();
        if (models.IsEmpty) throw new InvalidConfigException("orchestrator.models", "no model is configured");

        return new OrchestratorSettings(
            HttpSettings.From(orchestrator.Child("http")),
            AuthSettings.From(orchestrator.Child("auth")),
            providers,
            models,
            RealtimeSettings.From(orchestrator.Child("realtime")),
            LedgerSettings.From(orchestrator.Child("ledger")));
    }
}

public sealed record HttpSettings(
    Uri Listen,
    TimeSpan ReplyTimeout,
    long MaxRequestBytes,
    TimeSpan HeartbeatInterval,
    int MaxConcurrentRequests,
    TimeSpan RequestHeadersTimeout,
    int MaxRequestHeaderBytes,
    double MinRequestBodyDataRate,
    TimeSpan MinRequestBodyDataRateGrace)
{
    internal static HttpSettings From(ConfigNode node)
    {
        var grace = node.Duration("min-request-body-data-rate-grace");
        // Kestrel checks the rate once a second, so it refuses a grace of a second or less.
        if (grace <= TimeSpan.FromSeconds(1))
            throw new InvalidConfigException(node.KeyPath("min-request-body-data-rate-grace"), "must be more than 1s");
        return new HttpSettings(
            HttpUrl(node, "listen"),
            node.Duration("reply-timeout"),
            node.Long("max-request-bytes", 1024),
            node.Duration("heartbeat-interval"),
            node.Int("max-concurrent-requests", 1),
            node.Duration("request-headers-timeout"),
            node.Int("max-request-header-bytes", 1024),
            node.Long("min-request-body-data-rate", 1),
            grace);
    }

    internal static Uri HttpUrl(ConfigNode node, string key)
    {
        var raw = node.String(key);
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidConfigException(node.KeyPath(key), $"'{raw}' is not an http:// or https:// URL");
        return uri;
    }
}

public sealed record AuthSettings(ImmutableArray<Secret> Keys)
{
    /// <summary>No keys configured: every caller is let in.</summary>
    public bool Enabled => !Keys.IsEmpty;

    internal static AuthSettings From(ConfigNode node)
    {
        var keys = node.StringList("keys");
        if (keys.Any(string.IsNullOrWhiteSpace)) throw new InvalidConfigException(node.KeyPath("keys"), "a key must not be empty");
        return new AuthSettings([.. keys.Select(k => new Secret(k))]);
    }
}
