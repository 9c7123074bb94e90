namespace Orchestrator.Actors.Routing;

/// <summary>
/// For the replay strategy: swallows a replayed answer until it has reproduced the text the client already has,
/// then hands out only what is new. Text is compared without whitespace, since tokenisers and providers differ in
/// where they put spaces; anything else that differs means the replay diverged.
/// </summary>
public sealed class ReplayMatcher
{
    private readonly string _key;
    private bool _trimLeading;
    private int _position;

    public ReplayMatcher(string alreadySent)
    {
        _key = string.Concat(alreadySent.Where(c => !char.IsWhiteSpace(c)));
        // The client's text ends in whitespace: the new part must not start with more of it.
        _trimLeading = alreadySent.Length > 0 && char.IsWhiteSpace(alreadySent[^1]);
        Matched = _key.Length == 0;
    }

    /// <summary>The replay has caught up: everything from now on is new.</summary>
    public bool Matched { get; private set; }

    /// <summary>Feeds one replayed content piece. False when it diverges; otherwise <paramref name="fresh"/> is the new part (maybe empty).</summary>
    public bool TryFeed(string content, out string fresh)
    {
        fresh = "";
        var start = 0;
        if (!Matched)
        {
            start = content.Length;
            for (var i = 0; i < content.Length; i++)
            {
                var c = content[i];
                if (char.IsWhiteSpace(c)) continue;
                if (c != _key[_position]) return false;
                if (++_position == _key.Length)
                {
                    Matched = true;
                    start = i + 1;
                    break;
                }
            }
            if (!Matched) return true;
        }
        var rest = content.AsSpan(start);
        if (_trimLeading)
        {
            rest = rest.TrimStart();
            if (rest.Length > 0) _trimLeading = false;
        }
        fresh = rest.Length == content.Length ? content : rest.ToString();
        return true;
    }
}
