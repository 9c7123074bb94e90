namespace Orchestrator.Actors.Settings;

/// <summary>
/// A <c>models</c> (or catalogue) key with <c>*</c> in it: a glob over model ids, where each <c>*</c> stands for any
/// run of characters (dots, dashes and slashes included) and everything else must match exactly, case and all.
/// </summary>
public static class ModelPattern
{
    public static bool IsPattern(string id) => id.Contains('*');

    public static bool Matches(string pattern, string id) => Matches(pattern.AsSpan(), id.AsSpan());

    private static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> id)
    {
        // Greedy with one backtrack point (the last star): linear for the patterns a config holds.
        int p = 0, i = 0, star = -1, mark = 0;
        while (i < id.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = i;
            }
            else if (p < pattern.Length && pattern[p] == id[i])
            {
                p++;
                i++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                i = ++mark;
            }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>
    /// The undated model a dated snapshot belongs to (<c>claude-haiku-4-5-20251001</c> -> <c>claude-haiku-4-5</c>,
    /// <c>gpt-4o-2024-08-06</c> -> <c>gpt-4o</c>, <c>...-latest</c> likewise), or null when the id carries no date.
    /// </summary>
    public static string? Family(string id)
    {
        var span = id.AsSpan();
        if (span.EndsWith("-latest", StringComparison.Ordinal)) return id[..^"-latest".Length];
        // -YYYYMMDD
        if (span.Length > 9 && span[^9] == '-' && IsDigits(span[^8..])) return id[..^9];
        // -YYYY-MM-DD
        if (span.Length > 11 && span[^11] == '-' && IsDigits(span[^10..^6]) && span[^6] == '-' && IsDigits(span[^5..^3]) && span[^3] == '-' && IsDigits(span[^2..]))
            return id[..^11];
        // @YYYYMMDD (Vertex's spelling)
        var at = span.LastIndexOf('@');
        if (at > 0 && IsDigits(span[(at + 1)..])) return id[..at];
        return null;
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => text.Length > 0 && !text.ContainsAnyExceptInRange('0', '9');
}
