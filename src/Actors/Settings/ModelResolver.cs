using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// Which configured model answers an id a client sends: the entry of that exact id, else the first pattern entry
/// (<c>"claude-*"</c>) that matches it, in config order (a config file's own entries before the shipped ones),
/// resolved for that id (<see cref="ModelSettings.For"/>). Thread-safe: the front actor and the HTTP edge share one.
/// </summary>
public sealed class ModelResolver
{
    /// <summary>Resolved ids kept; past this a pattern's model is made anew per request (any string can be sent).</summary>
    private const int MaxKept = 4096;

    private readonly FrozenDictionary<string, ModelSettings> _exact;
    private readonly ImmutableArray<ModelSettings> _patterns;
    private readonly ModelCatalogue _catalogue;
    private readonly ConcurrentDictionary<string, ModelSettings> _resolved = new(StringComparer.Ordinal);

    private readonly ImmutableArray<ModelSettings> _models;

    public ModelResolver(ImmutableArray<ModelSettings> models, ModelCatalogue catalogue)
    {
        _models = models;
        var all = models.ToList();
        _exact = all.Where(m => !m.IsPattern).ToFrozenDictionary(m => m.Id, StringComparer.Ordinal);
        _patterns = [.. all.Where(m => m.IsPattern)];
        _catalogue = catalogue;
        Listed = [.. all.Where(m => !m.IsPattern), .. CatalogueServed()];
    }

    /// <summary>
    /// The concrete ids a client can see (<c>GET /v1/models</c>): every model configured by its id, in config order,
    /// then the catalogue's ids that a pattern serves. Never a pattern.
    /// </summary>
    public ImmutableArray<ModelSettings> Listed { get; }

    internal bool MadeFrom(ImmutableArray<ModelSettings> models, ModelCatalogue catalogue) => _models == models && ReferenceEquals(_catalogue, catalogue);

    public bool TryResolve(string id, out ModelSettings model)
    {
        if (_exact.TryGetValue(id, out model!)) return true;
        if (_resolved.TryGetValue(id, out model!)) return true;
        foreach (var pattern in _patterns)
        {
            if (!ModelPattern.Matches(pattern.Id, id)) continue;
            model = pattern.For(id, _catalogue);
            if (_resolved.Count < MaxKept) _resolved.TryAdd(id, model);
            return true;
        }
        model = null!;
        return false;
    }

    /// <summary>
    /// The model names metrics and the console may count under, a bounded set whatever clients send: every configured
    /// entry (patterns included, for the ids they serve unlisted) and every listed id.
    /// </summary>
    public IEnumerable<string> Labels => _models.Select(m => m.Id).Concat(Listed.Select(m => m.Id)).Distinct(StringComparer.Ordinal);

    /// <summary>The entry that serves <paramref name="id"/>: the id itself, or the pattern; null when none does.</summary>
    public string? EntryOf(string id) => TryResolve(id, out var model) ? model.Pattern ?? model.Id : null;

    private IEnumerable<ModelSettings> CatalogueServed()
    {
        var seen = new HashSet<string>(_exact.Keys, StringComparer.Ordinal);
        foreach (var entry in _catalogue.Entries.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            if (!seen.Add(entry.Id)) continue;
            var pattern = _patterns.FirstOrDefault(p => ModelPattern.Matches(p.Id, entry.Id));
            if (pattern is not null) yield return pattern.For(entry.Id, _catalogue);
        }
    }
}
