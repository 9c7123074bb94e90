using System.Collections.Frozen;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// <c>orchestrator.catalogue</c>: list prices and context windows of common models (shipped in hocon/catalogue.conf,
/// correctable in a config file), for configured models that set no price or window of their own.
/// </summary>
public sealed class ModelCatalogue
{
    private readonly FrozenDictionary<string, CatalogueEntry> _entries;
    // Entries keyed by a pattern ("claude-opus-*": a family's price), the most specific (longest) first.
    private readonly CatalogueEntry[] _patterns;

    private ModelCatalogue(IEnumerable<CatalogueEntry> entries)
    {
        var all = entries.ToList();
        _entries = all.Where(e => !ModelPattern.IsPattern(e.Id)).ToFrozenDictionary(e => e.Id, StringComparer.Ordinal);
        _patterns = [.. all.Where(e => ModelPattern.IsPattern(e.Id)).OrderByDescending(e => e.Id.Length).ThenBy(e => e.Id, StringComparer.Ordinal)];
    }

    /// <summary>The entries of concrete ids (what <c>GET /v1/models</c> can list for a pattern that serves them).</summary>
    public IEnumerable<CatalogueEntry> Entries => _entries.Values;

    /// <summary>
    /// The entry for a model: the one named by its id, else by the upstream model its first route asks for, else its
    /// family's (a dated snapshot takes its undated model's entry: <see cref="ModelPattern.Family"/>), else the most
    /// specific pattern entry that matches the id (<c>"claude-opus-*"</c>).
    /// </summary>
    public CatalogueEntry? Find(string modelId, string upstreamModel) =>
        _entries.GetValueOrDefault(modelId) ?? _entries.GetValueOrDefault(upstreamModel)
        ?? (ModelPattern.Family(modelId) is { } family ? _entries.GetValueOrDefault(family) : null)
        ?? (ModelPattern.Family(upstreamModel) is { } upstreamFamily ? _entries.GetValueOrDefault(upstreamFamily) : null)
        ?? Array.Find(_patterns, e => ModelPattern.Matches(e.Id, modelId))
        ?? Array.Find(_patterns, e => ModelPattern.Matches(e.Id, upstreamModel));

    public static readonly ModelCatalogue Empty = new([]);

    internal static ModelCatalogue From(ConfigNode? node) =>
        new(node is null ? [] : node.Keys.Select(id => CatalogueEntry.From(id, node.Child(id))));
}

/// <summary>One model's list price (null when the entry gives none) and context window, and where they were read.</summary>
public sealed record CatalogueEntry(string Id, Price? Price, int? ContextWindow, string? Source, string? Read)
{
    internal static CatalogueEntry From(string id, ConfigNode node) => new(
        id,
        node.Has("price") ? Price.From(node.Child("price")) : null,
        node.Has("context-window") ? node.Int("context-window", 1) : null,
        node.OptionalString("source"),
        node.OptionalString("read"));
}
