using System.Collections.Immutable;

namespace Orchestrator.Actors.Settings;

/// <summary>A model id clients ask for, with its routes in fallback order.</summary>
public sealed record ModelSettings(string Id, ImmutableArray<RouteSettings> Routes, Price Price)
{
    internal static ModelSettings From(string id, ConfigNode node, IReadOnlyDictionary<string, ProviderSettings> providers)
    {
        var routes = node.ObjectList("routes")
            .Select(route =>
            {
                var provider = route.String("provider");
                if (!providers.ContainsKey(provider))
                    throw new InvalidConfigException(route.KeyPath("provider"), $"unknown provider '{provider}' (configured: {string.Join(", ", providers.Keys.Order())})");
                return new RouteSettings(provider, route.OptionalString("model") ?? id);
            })
            .ToImmutableArray();
        if (routes.IsEmpty) throw new InvalidConfigException(node.KeyPath("routes"), "a model needs at least one route");
        var price = node.Child("price");
        return new ModelSettings(id, routes, new Price(price.Decimal("input", 0), price.Decimal("output", 0)));
    }
}

/// <summary>One route: the provider to try and the model name it knows.</summary>
public sealed record RouteSettings(string Provider, string UpstreamModel);

/// <summary>USD per one million tokens.</summary>
public sealed record Price(decimal Input, decimal Output);
