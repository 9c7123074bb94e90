using System.Collections.Immutable;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>What a translation left out: each name once, in the order met.</summary>
internal sealed class DroppedFields
{
    private readonly List<string> _names = [];

    public void Add(string name)
    {
        if (!_names.Contains(name)) _names.Add(name);
    }

    public ImmutableArray<string> ToImmutable() => [.. _names];
}
