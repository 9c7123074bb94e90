using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// Start-up refuses a key the service does not know, so a typo or a key in the wrong section never runs silently
/// on its default. The known keys are the default file's (every key has a default there), with the user-named
/// maps spelled out: a provider takes any <c>provider-defaults</c> key plus an <c>upstream { }</c> override, a model
/// any <c>model-defaults</c> key plus <c>routes</c>, a route <c>provider</c>, <c>model</c> and any
/// <c>route-defaults</c> key, a catalogue entry a model's <c>price</c> block, <c>context-window</c>, <c>source</c>,
/// <c>read</c> and <c>note</c>. <c>akka</c> is Akka's own section and is not checked. The check runs on the merged
/// config (the defaults are all known, so whatever it finds came from the user's file) and names the key, where
/// the user's file sets it, and the nearest known key.
/// </summary>
internal sealed class KnownKeys
{
    /// <summary>
    /// Keys of the first release's <c>upstream</c> section that moved (README "Keys that moved since the first
    /// release"): the old spelling fails with the new place rather than being read from two places.
    /// </summary>
    private static readonly Dictionary<string, string> MovedFromUpstream = new(StringComparer.Ordinal)
    {
        ["idle-timeout"] = "model-defaults",
        ["first-byte-timeout"] = "model-defaults",
    };

    private const int MaxSuggestions = 3;

    private readonly KeyShape.Section _root;
    private readonly KeyShape.Section? _upstream;

    private KnownKeys(KeyShape.Section root, KeyShape.Section? upstream)
    {
        _root = root;
        _upstream = upstream;
    }

    public static KnownKeys FromDefaults(Config defaults)
    {
        var root = KeyShape.Section.Of(defaults.Root.GetObject());
        if (!root.Keys.TryGetValue("orchestrator", out var shape) || shape is not KeyShape.Section orchestrator)
            return new KnownKeys(root.With(("akka", KeyShape.Unchecked.Instance)), null);

        var upstream = orchestrator.Keys.GetValueOrDefault("upstream") as KeyShape.Section;
        var providerDefaults = orchestrator.Keys.GetValueOrDefault("provider-defaults") as KeyShape.Section;
        var modelDefaults = orchestrator.Keys.GetValueOrDefault("model-defaults") as KeyShape.Section;
        var routeDefaults = orchestrator.Keys.GetValueOrDefault("route-defaults") as KeyShape.Section;
        if (providerDefaults is not null && upstream is not null)
            orchestrator = orchestrator.With(("providers", new KeyShape.Map("NAME", providerDefaults.With(("upstream", upstream)))));
        if (modelDefaults is not null && routeDefaults is not null)
        {
            var route = new KeyShape.Section(new(StringComparer.Ordinal) { ["provider"] = KeyShape.Leaf.Instance, ["model"] = KeyShape.Leaf.Instance })
                .With([.. routeDefaults.Keys.Select(k => (k.Key, k.Value))]);
            orchestrator = orchestrator.With(("models", new KeyShape.Map("\"ID\"", modelDefaults.With(("routes", new KeyShape.List(route))))));
        }
        if (orchestrator.Keys.ContainsKey("catalogue") && modelDefaults?.Keys.GetValueOrDefault("price") is KeyShape.Section price)
            orchestrator = orchestrator.With(("catalogue", new KeyShape.Map("\"ID\"", CatalogueEntry(price))));
        return new KnownKeys(root.With(("orchestrator", orchestrator), ("akka", KeyShape.Unchecked.Instance)), upstream);
    }

    /// <summary>A catalogue entry (hocon/catalogue.conf): a model's price block, its context window, and where the figures come from.</summary>
    private static KeyShape.Section CatalogueEntry(KeyShape.Section price) => new(new(StringComparer.Ordinal)
    {
        ["price"] = price,
        ["context-window"] = KeyShape.Leaf.Instance,
        ["source"] = KeyShape.Leaf.Instance,
        ["read"] = KeyShape.Leaf.Instance,
        ["note"] = KeyShape.Leaf.Instance,
    });

    /// <summary>Throws <see cref="InvalidConfigException"/> naming every unknown key of <paramref name="merged"/>.</summary>
    public void Check(Config merged, string userText, string userName)
    {
        var unknown = new List<Unknown>();
        Walk(_root, merged.Root.GetObject(), [], unknown);
        if (unknown.Count == 0) return;
        var lines = HoconKeyLines.Find(userText);
        throw new InvalidConfigException([.. unknown.Select(u => (HoconKeyLines.Render(u.Path), Describe(u, lines, userName)))]);
    }

    private sealed record Unknown(IReadOnlyList<string> Path, KeyShape.Section Parent)
    {
        public string Leaf => Path[^1];
    }

    private static void Walk(KeyShape.Section section, HoconObject obj, IReadOnlyList<string> path, List<Unknown> unknown)
    {
        foreach (var (key, value) in obj.Items)
        {
            IReadOnlyList<string> keyPath = [.. path, key];
            if (section.Keys.TryGetValue(key, out var shape)) Visit(shape, value, keyPath, unknown);
            else unknown.Add(new Unknown(keyPath, section));
        }
    }

    /// <summary>A value whose type does not fit its shape is left alone: binding says what is wrong with it.</summary>
    private static void Visit(KeyShape shape, HoconValue value, IReadOnlyList<string> path, List<Unknown> unknown)
    {
        switch (shape)
        {
            case KeyShape.Section section when value.IsObject():
                Walk(section, value.GetObject(), path, unknown);
                break;
            case KeyShape.Map map when value.IsObject():
                foreach (var (name, entry) in value.GetObject().Items) Visit(map.Entry, entry, [.. path, name], unknown);
                break;
            case KeyShape.List list when value.IsArray():
                var elements = value.GetArray();
                for (var i = 0; i < elements.Count; i++) Visit(list.Element, elements[i], [.. path, $"[{i}]"], unknown);
                break;
        }
    }

    private string Describe(Unknown unknown, IReadOnlyDictionary<string, int> lines, string userName)
    {
        var where = lines.TryGetValue(HoconKeyLines.Render(unknown.Path), out var line) ? $"{userName}, line {line}" : userName;
        var problem = $"unknown key ({where})";
        if (ReferenceEquals(unknown.Parent, _upstream) && MovedFromUpstream.TryGetValue(unknown.Leaf, out var section))
            return $"{problem}; {unknown.Leaf} moved from upstream to {section} when timeouts became per model: set " +
                   $"orchestrator.{section}.{unknown.Leaf}, or {unknown.Leaf} in one model's block";
        var suggestions = Suggest(unknown);
        return suggestions.Count == 0 ? problem : $"{problem}; did you mean {OneOf(suggestions)}?";
    }

    private static string OneOf(List<string> paths) =>
        paths.Count == 1 ? paths[0] : $"{string.Join(", ", paths.SkipLast(1))} or {paths[^1]}";

    /// <summary>
    /// The known keys nearest to an unknown one, by edit distance: a sibling spelled alike (a typo), a path under the
    /// same parent written alike (<c>breaker-max-failures</c>), or the same name elsewhere (a key in the wrong section).
    /// </summary>
    private List<string> Suggest(Unknown unknown)
    {
        var parent = unknown.Path.Take(unknown.Path.Count - 1).ToList();
        var full = HoconKeyLines.Render(unknown.Path);
        // Scores are doubled so that "the same name one section over" (+1) ranks after a one-letter typo in place.
        var limit = 2 * Math.Clamp(unknown.Leaf.Length / 3, 1, 4);
        var scored = new List<(int Score, string Path)>();
        foreach (var candidate in Candidates(_root, [], unknown.Path))
        {
            if (candidate.Count <= unknown.Path.Count && StartsWith(unknown.Path, candidate)) continue;   // an ancestor
            var rendered = HoconKeyLines.Render(candidate);
            var score = 2 * EditDistance.Between(full, rendered);
            var underParent = candidate.Count > parent.Count && StartsWith(candidate, parent);
            if (underParent) score = Math.Min(score, 2 * EditDistance.Between(unknown.Leaf, HoconKeyLines.Render(candidate.Skip(parent.Count))));
            if (!(underParent && candidate.Count == parent.Count + 1))
                score = Math.Min(score, 2 * EditDistance.Between(unknown.Leaf, candidate[^1]) + 1);
            if (score <= limit) scored.Add((score, rendered));
        }
        if (scored.Count == 0) return [];
        var best = scored.Min(s => s.Score);
        return [.. scored.Where(s => s.Score == best).Select(s => s.Path).Distinct().Take(MaxSuggestions)];
    }

    /// <summary>Every known key path; a user-named map or list is entered under the unknown key's own name or index when it passes through it.</summary>
    private static IEnumerable<IReadOnlyList<string>> Candidates(KeyShape shape, IReadOnlyList<string> path, IReadOnlyList<string> near)
    {
        switch (shape)
        {
            case KeyShape.Section section:
                foreach (var (key, child) in section.Keys)
                {
                    IReadOnlyList<string> keyPath = [.. path, key];
                    yield return keyPath;
                    foreach (var candidate in Candidates(child, keyPath, near)) yield return candidate;
                }
                break;
            case KeyShape.Map map:
                foreach (var candidate in Candidates(map.Entry, [.. path, Entry(path, near, map.Placeholder, index: false)], near)) yield return candidate;
                break;
            case KeyShape.List list:
                foreach (var candidate in Candidates(list.Element, [.. path, Entry(path, near, "[n]", index: true)], near)) yield return candidate;
                break;
        }
    }

    private static string Entry(IReadOnlyList<string> path, IReadOnlyList<string> near, string placeholder, bool index) =>
        near.Count > path.Count + 1 && StartsWith(near, path) && near[path.Count].StartsWith('[') == index ? near[path.Count] : placeholder;

    private static bool StartsWith(IReadOnlyList<string> path, IReadOnlyList<string> prefix)
    {
        if (prefix.Count > path.Count) return false;
        for (var i = 0; i < prefix.Count; i++)
            if (!string.Equals(path[i], prefix[i], StringComparison.Ordinal)) return false;
        return true;
    }
}
