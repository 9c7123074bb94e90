using System.Collections.Frozen;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// <c>orchestrator.catalogue</c>: list prices and context windows of common models (shipped in hocon/catalogue.conf,
/// correctable in a config file), for configured models that set no price or window of their own.
/// </summary>
public sealed class ModelCatalogue
{
    private readonly FrozenDictionary<string, CatalogueEntry> _entries;

    private ModelCatalogue(IEnumerable<CatalogueEntry> entries) =>
        _entries = entries.ToFrozenDictionary(e => e.Id, StringComparer.Ordinal);

    public IEnumerable<CatalogueEntry> Entries => _entries.Values;

    /// <summary>The entry named by the model's id, else by the upstream model its first route asks for.</summary>
    public CatalogueEntry? Find(string modelId, string upstreamModel) =>
        _entries.GetValueOrDefault(modelId) ?? _entries.GetValueOrDefault(upstreamModel);

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
