namespace Orchestrator.Bench.Soak;

/// <summary>
/// The fault upstream's answer to a request, a pure function of the request's marker (the last user message,
/// <c>soak SEED COUNT</c>): the upstream writes it, the client checks it, and a replayed attempt (resume) gets the
/// same text. Words include multi-byte UTF-8 so a trickled event split mid-character is exercised too.
/// </summary>
public static class SoakAnswer
{
    private static readonly string[] Words = ["relay", "naïve", "café", "東京", "Ωmega", "stream", "tök", "😀ok", "fallback", "résumé", "data", "ß"];

    public static string Marker(long seed, int count) => $"soak {seed} {count}";

    public static bool TryParseMarker(string? text, out long seed, out int count)
    {
        seed = 0;
        count = 0;
        var parts = text?.Split(' ');
        return parts is ["soak", var s, var c] && long.TryParse(s, out seed) && int.TryParse(c, out count) && count is > 0 and <= 1000;
    }

    public static string Token(long seed, int index)
    {
        var h = Mix((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index);
        var word = Words[(int)(h % (ulong)Words.Length)] + (h >> 8) % 1000;
        return index == 0 ? word : " " + word;
    }

    public static string Text(long seed, int count) => string.Concat(Enumerable.Range(0, count).Select(i => Token(seed, i)));

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        return x ^ (x >> 33);
    }
}
