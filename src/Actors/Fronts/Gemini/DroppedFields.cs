using System.Collections.Immutable;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>
/// What a translation left out: each name once, in the order met. The names come from the client's body and end up
/// in a response header, so each is made header-safe (printable ASCII, no commas, at most <see cref="MaxNameLength"/>
/// characters) and the list stops at <see cref="MaxNames"/> with a count of the rest: a body of a thousand unknown
/// fields, or one named "é\r\n", must not become a response Kestrel refuses to send.
/// </summary>
internal sealed class DroppedFields
{
    public const int MaxNames = 16;
    public const int MaxNameLength = 64;

    private readonly List<string> _names = [];
    private int _more;

    public void Add(string name)
    {
        name = Safe(name);
        if (_names.Contains(name)) return;
        if (_names.Count < MaxNames) _names.Add(name);
        else _more++;
    }

    public ImmutableArray<string> ToImmutable() => _more == 0 ? [.. _names] : [.. _names, $"{_more} more"];

    private static string Safe(string name)
    {
        if (name.Length > MaxNameLength) name = string.Concat(name.AsSpan(0, MaxNameLength), "...");
        return string.Create(name.Length, name, static (chars, source) =>
        {
            for (var i = 0; i < chars.Length; i++) chars[i] = source[i] is > ' ' and < '\x7f' and not ',' ? source[i] : '?';
        });
    }
}
