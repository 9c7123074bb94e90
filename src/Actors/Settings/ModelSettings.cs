using System.Collections.Immutable;

namespace Orchestrator.Actors.Settings;

/// <summary>A model id clients ask for, with its routes in fallback order.</summary>
public sealed record ModelSettings(string Id, ImmutableArray<RouteSettings> Routes, Price Price, RequestLimits Limits, ResumeSettings Resume)
{
    /// <summary><c>max-tokens-default</c>: the output limit sent to upstreams that require one (Anthropic) when the caller set none.</summary>
    public int MaxTokensDefault { get; init; } = 4096;

    internal static ModelSettings From(string id, ConfigNode node, IReadOnlyDictionary<string, ProviderSettings> providers, ConfigNode routeDefaults)
    {
        var routes = node.ObjectList("routes")
            .Select(route => RouteSettings.From(id, route.WithFallback(routeDefaults), providers))
            .ToImmutableArray();
        if (routes.IsEmpty) throw new InvalidConfigException(node.KeyPath("routes"), "a model needs at least one route");
        var price = node.Child("price");
        return new ModelSettings(
            id,
            routes,
            new Price(price.Decimal("input", 0), price.Decimal("output", 0)),
            new RequestLimits(
                node.Duration("first-byte-timeout"),
                node.Duration("first-token-timeout"),
                node.Duration("idle-timeout"),
                node.Duration("total-timeout")),
            new ResumeSettings(node.Bool("resume"), node.Int("max-resumes", 0, 100)))
        {
            MaxTokensDefault = node.Int("max-tokens-default", 1, 10_000_000),
        };
    }
}

/// <summary>
/// How long one request may take, per model (reasoning models think longer): headers, first content event, gap
/// between events, and the whole request with every retry and resume.
/// </summary>
public sealed record RequestLimits(TimeSpan FirstByteTimeout, TimeSpan FirstTokenTimeout, TimeSpan IdleTimeout, TimeSpan TotalTimeout);

/// <summary>Whether a stream cut after content reached the client is continued on another attempt.</summary>
public sealed record ResumeSettings(bool Enabled, int MaxResumes);

/// <summary>USD per one million tokens.</summary>
public sealed record Price(decimal Input, decimal Output)
{
    public decimal CachedInput { get; init; } = Input;
}
