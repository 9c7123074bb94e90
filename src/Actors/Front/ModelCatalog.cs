using System.Collections.Frozen;
using System.Collections.Immutable;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Front;

/// <summary>
/// The configured models as clients name them: an exact id, else the first pattern that matches it
/// (<see cref="ModelResolver"/>), with "did you mean" for a miss.
/// </summary>
public sealed class ModelCatalog(ModelResolver resolver)
{
    /// <summary>The most of an id "did you mean" compares: OpenAI refuses longer ids, and so does the HTTP edge.</summary>
    public const int MaxComparedLength = 256;

    private readonly string[] _listed = [.. resolver.Listed.Select(m => m.Id)];

    public bool TryGet(string id, out ModelSettings model) => resolver.TryResolve(id, out model);

    /// <summary>
    /// Up to <paramref name="count"/> listed ids nearest to <paramref name="id"/> by edit distance. Only the first
    /// <see cref="MaxComparedLength"/> characters count, so the cost is bounded whoever builds the request: this runs
    /// inside the single front actor.
    /// </summary>
    public ImmutableArray<string> Closest(string id, int count = 3) => Closest(id, _listed, count);

    /// <summary>The same among <paramref name="ids"/> (a key's allow-list).</summary>
    public static ImmutableArray<string> Closest(string id, IEnumerable<string> ids, int count = 3)
    {
        var probe = (id.Length > MaxComparedLength ? id[..MaxComparedLength] : id).ToLowerInvariant();
        return [.. ids
            .OrderBy(candidate => EditDistance(probe, candidate.ToLowerInvariant()))
            .ThenBy(candidate => candidate, StringComparer.Ordinal)
            .Take(count)];
    }

    /// <summary>The 404 for a model that does not exist (for the asker), with the nearest ones it may use.</summary>
    public static ApiError NotFound(string id, IReadOnlyCollection<string> closest) => ApiError.ModelNotFound(
        $"The model '{ApiError.Quote(id)}' does not exist or is not configured here." +
        (closest.Count > 0 ? $" Closest configured models: {string.Join(", ", closest)}." : ""));

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
