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
    LedgerSettings Ledger,
    AdminSettings Admin,
    SimulatorClientSettings Simulator)
{
    /// <summary>List prices and windows (<c>orchestrator.catalogue</c>), for the ids a pattern serves.</summary>
    public ModelCatalogue Catalogue { get; init; } = ModelCatalogue.Empty;

    /// <summary>Which model answers an id: exact entries, then patterns (<see cref="ModelResolver"/>).</summary>
    public ModelResolver Resolver
    {
        get
        {
            // Made once; a copy with other models (`settings with { Models = ... }`) makes its own.
            var resolver = field;
            if (resolver is null || !resolver.MadeFrom(Models, Catalogue)) field = resolver = new ModelResolver(Models, Catalogue);
            return resolver;
        }
    }

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
        var catalogue = ModelCatalogue.From(orchestrator.Has("catalogue") ? orchestrator.Child("catalogue") : null);
        var models = modelsNode.Keys
            .Select(id => ModelSettings.From(id, modelsNode.Child(id).WithFallback(modelDefaults), providers, routeDefaults, catalogue))
            .ToImmutableArray();
        if (models.IsEmpty) throw new InvalidConfigException("orchestrator.models", "no model is configured");

        var auth = AuthSettings.From(orchestrator.Child("auth"));
        return new OrchestratorSettings(
            HttpSettings.From(orchestrator.Child("http")),
            auth,
            providers,
            models,
            RealtimeSettings.From(orchestrator.Child("realtime")),
            LedgerSettings.From(orchestrator.Child("ledger")),
            AdminSettings.From(orchestrator.Child("admin"), auth),
            SimulatorClientSettings.From(orchestrator.Child("simulator")))
        {
            Catalogue = catalogue,
        };
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
    TimeSpan MinRequestBodyDataRateGrace,
    bool PublicStatus)
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
            grace,
            node.Bool("public-status"));
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
    /// <summary>The key the default configuration ships with: public knowledge, so it is only let in on loopback.</summary>
    public const string WellKnownKey = "sk-local-1";

    /// <summary>No keys configured: every caller is let in.</summary>
    public bool Enabled => !Keys.IsEmpty;

    /// <summary>Whether <see cref="WellKnownKey"/> is still one of the keys.</summary>
    public bool HasWellKnownKey => Keys.Any(k => k.Matches(WellKnownKey));

    internal static AuthSettings From(ConfigNode node) => new([.. ReadKeys(node)]);

    internal static IEnumerable<Secret> ReadKeys(ConfigNode node)
    {
        var keys = node.StringList("keys");
        if (keys.Any(string.IsNullOrWhiteSpace)) throw new InvalidConfigException(node.KeyPath("keys"), "a key must not be empty");
        return keys.Select(k => new Secret(k));
    }
}

/// <summary><c>orchestrator.admin</c>: the keys of the admin API (<c>/admin/*</c>) and of <c>GET /v1/providers</c>.</summary>
public sealed record AdminSettings(ImmutableArray<Secret> Keys)
{
    /// <summary>No admin key configured: the admin API does not exist (404).</summary>
    public bool Enabled => !Keys.IsEmpty;

    internal static AdminSettings From(ConfigNode node, AuthSettings auth)
    {
        ImmutableArray<Secret> keys = [.. AuthSettings.ReadKeys(node)];
        // A key in both lists would make every holder of that client key an admin.
        if (keys.Any(k => auth.Keys.Contains(k)))
            throw new InvalidConfigException(node.KeyPath("keys"), "an admin key is also a client key (orchestrator.auth.keys); use a key of its own");
        if (keys.Any(k => k.Matches(AuthSettings.WellKnownKey)))
            throw new InvalidConfigException(node.KeyPath("keys"), $"{AuthSettings.WellKnownKey} is a published key and cannot be an admin key");
        return new AdminSettings(keys);
    }
}

/// <summary><c>orchestrator.simulator</c>: what clients may ask of the built-in simulator provider.</summary>
public sealed record SimulatorClientSettings(bool AllowFaultHeader)
{
    internal static SimulatorClientSettings From(ConfigNode node) => new(node.Bool("allow-fault-header"));
}
