using System.Collections.Frozen;
using System.Collections.Immutable;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Actors.Front;

/// <summary>The configured model ids, looked up exactly (as OpenAI does), with "did you mean" for a miss.</summary>
public sealed class ModelCatalog
{
    /// <summary>The most of an id "did you mean" compares: OpenAI refuses longer ids, and so does the HTTP edge.</summary>
    public const int MaxComparedLength = 256;

    private readonly FrozenDictionary<string, ModelSettings> _models;

    public ModelCatalog(IEnumerable<ModelSettings> models) =>
        _models = models.ToFrozenDictionary(m => m.Id, StringComparer.Ordinal);

    public bool TryGet(string id, out ModelSettings model) => _models.TryGetValue(id, out model!);

    /// <summary>
    /// Up to <paramref name="count"/> configured ids nearest to <paramref name="id"/> by edit distance. Only the first
    /// <see cref="MaxComparedLength"/> characters count, so the cost is bounded whoever builds the request: this runs
    /// inside the single front actor.
    /// </summary>
    public ImmutableArray<string> Closest(string id, int count = 3)
    {
        var probe = (id.Length > MaxComparedLength ? id[..MaxComparedLength] : id).ToLowerInvariant();
        return [.. _models.Keys
            .OrderBy(candidate => EditDistance(probe, candidate.ToLowerInvariant()))
            .ThenBy(candidate => candidate, StringComparer.Ordinal)
            .Take(count)];
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
