using System.Collections.Immutable;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// A model id clients ask for, with its routes in fallback order. <see cref="Price"/> is what a request is charged:
/// the model's own, else its catalogue entry's, else free (<see cref="PriceSource"/> says which).
/// </summary>
public sealed record ModelSettings(string Id, ImmutableArray<RouteSettings> Routes, Price Price, RequestLimits Limits, ResumeSettings Resume)
{
    /// <summary><c>max-tokens-default</c>: the output limit sent to upstreams that require one (Anthropic) when the caller set none.</summary>
    public int MaxTokensDefault { get; init; } = 4096;

    /// <summary>Where <see cref="Price"/> came from; <see cref="PriceSource.None"/> is served at cost 0 and warned about at start-up.</summary>
    public PriceSource PriceSource { get; init; } = PriceSource.Config;

    /// <summary>Tokens the model takes in one request: its own <c>context-window</c>, else the catalogue's; null when unknown.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>
    /// Whether <see cref="Id"/> is a pattern (<c>"claude-*"</c>, <see cref="ModelPattern"/>): it serves every id it
    /// matches, each resolved by <see cref="For"/>, and is never itself a model a client can name or see listed.
    /// </summary>
    public bool IsPattern => ModelPattern.IsPattern(Id);

    /// <summary>The pattern entry this model was resolved from (<see cref="For"/>); null for a model configured by its id.</summary>
    public string? Pattern { get; init; }

    /// <summary>The entry's own price and window (its block or model-defaults), which every id a pattern serves shares.</summary>
    private Price? OwnPrice { get; init; }

    private int? OwnContextWindow { get; init; }

    /// <summary>
    /// The model a pattern serves under <paramref name="id"/>: routes without a <c>model</c> send the id as the client
    /// wrote it, and the price is the entry's own, else the catalogue's for that id (its exact entry, else its family's).
    /// </summary>
    public ModelSettings For(string id, ModelCatalogue catalogue)
    {
        var routes = Routes.Select(r => r.ModelFromRequest ? r with { UpstreamModel = id } : r).ToImmutableArray();
        var entry = catalogue.Find(id, routes[0].UpstreamModel);
        var (price, source) = Priced(OwnPrice, entry);
        return this with
        {
            Id = id,
            Routes = routes,
            Price = price,
            PriceSource = source,
            ContextWindow = OwnContextWindow ?? entry?.ContextWindow,
            Pattern = Id,
        };
    }

    private static (Price, PriceSource) Priced(Price? own, CatalogueEntry? entry) =>
        own is { } set ? (set, PriceSource.Config)
        : entry?.Price is { } listed ? (listed, PriceSource.Catalogue)
        : (Price.Free, PriceSource.None);

    internal static ModelSettings From(string id, ConfigNode node, IReadOnlyDictionary<string, ProviderSettings> providers, ConfigNode routeDefaults,
        ModelCatalogue catalogue)
    {
        var routes = node.ObjectList("routes")
            .Select(route => RouteSettings.From(id, route.WithFallback(routeDefaults), providers))
            .ToImmutableArray();
        if (routes.IsEmpty) throw new InvalidConfigException(node.KeyPath("routes"), "a model needs at least one route");
        routes = WithoutIdleDemos(routes, providers);
        var entry = catalogue.Find(id, routes[0].UpstreamModel);
        Price? own = Price.IsSet(node.Child("price")) ? Price.From(node.Child("price")) : null;
        var (price, source) = Priced(own, entry);
        int? window = node.Has("context-window") ? node.Int("context-window", 1) : null;
        return new ModelSettings(
            id,
            routes,
            price,
            new RequestLimits(
                node.Duration("first-byte-timeout"),
                node.Duration("first-token-timeout"),
                node.Duration("idle-timeout"),
                node.Duration("total-timeout")),
            new ResumeSettings(node.Bool("resume"), node.Int("max-resumes", 0, 100)))
        {
            MaxTokensDefault = node.Int("max-tokens-default", 1, 10_000_000),
            PriceSource = source,
            ContextWindow = window ?? entry?.ContextWindow,
            OwnPrice = own,
            OwnContextWindow = window,
        };
    }

    /// <summary>
    /// A <c>demo</c> route (the shipped simulator behind each real provider) answers only while no other route of the
    /// model has a provider that can take requests: a fresh machine without keys gets answers, a deployment with a
    /// key gets the provider's errors, never made-up text.
    /// </summary>
    private static ImmutableArray<RouteSettings> WithoutIdleDemos(ImmutableArray<RouteSettings> routes, IReadOnlyDictionary<string, ProviderSettings> providers)
    {
        var served = routes.Any(r => !r.Demo && providers[r.Provider] is { Kind: not ProviderKind.Simulator, UnavailableReason: null });
        return served && routes.Any(r => r.Demo) ? [.. routes.Where(r => !r.Demo)] : routes;
    }
}

/// <summary>
/// How long one request may take, per model (reasoning models think longer): headers, first content event, gap
/// between events, and the whole request with every retry and resume.
/// </summary>
public sealed record RequestLimits(TimeSpan FirstByteTimeout, TimeSpan FirstTokenTimeout, TimeSpan IdleTimeout, TimeSpan TotalTimeout);

/// <summary>Whether a stream cut after content reached the client is continued on another attempt.</summary>
public sealed record ResumeSettings(bool Enabled, int MaxResumes);

/// <summary>
/// USD per one million tokens, exact (decimal): prompt tokens, answer tokens, and prompt tokens the upstream read
/// from its cache.
/// </summary>
public sealed record Price(decimal Input, decimal Output, decimal CachedInput)
{
    /// <summary>Cached input at the input price.</summary>
    public Price(decimal input, decimal output) : this(input, output, input)
    {
    }

    public static readonly Price Free = new(0m, 0m, 0m);

    /// <summary>
    /// A price block sets a price when it sets input or output; null (the default) leaves the price to the catalogue,
    /// which is how "no price" is told apart from an explicit 0 (free).
    /// </summary>
    internal static bool IsSet(ConfigNode price) => price.Has("input") || price.Has("output") || price.Has("cached-input");

    /// <summary>input and output both, or the block is refused: half a price is a typo, not a wish to take the rest from the catalogue.</summary>
    internal static Price From(ConfigNode price)
    {
        decimal? Read(string key) => price.Has(key) ? price.Decimal(key, 0) : null;
        var (input, output, cached) = (Read("input"), Read("output"), Read("cached-input"));   // a bad value is named first
        if (input is null || output is null)
            throw new InvalidConfigException(price.KeyPath(input is null ? "input" : "output"),
                "is missing: a price sets input and output (or neither, to take the catalogue's)");
        return new Price(input.Value, output.Value, cached ?? input.Value);
    }
}

/// <summary>Where a model's price came from.</summary>
public enum PriceSource
{
    /// <summary>The model's own <c>price</c> block (or <c>model-defaults</c>).</summary>
    Config,
    /// <summary>The catalogue entry named by the model's id or its first route's upstream model.</summary>
    Catalogue,
    /// <summary>No price anywhere: served at cost 0, with a warning at start-up.</summary>
    None,
}
