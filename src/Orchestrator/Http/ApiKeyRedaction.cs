using System.Text.RegularExpressions;

namespace Orchestrator.Http;

/// <summary>
/// Two fronts take a key in the query string: realtime's <c>api_key</c> (browsers cannot set headers on a
/// WebSocket) and Gemini's <c>key</c> (Google's own URL form, <c>?key=AIza...</c>). So any text that may hold a URL
/// or query string is passed through here before it is logged.
/// </summary>
public static partial class ApiKeyRedaction
{
    public const string Redacted = "***";

    /// <summary>Cheap test first: almost no log text holds a query string at all (a name may be percent-encoded: <c>api%5Fkey</c>).</summary>
    public static bool MayHoldKey(string text) =>
        text.Contains('=') && (text.Contains("key", StringComparison.OrdinalIgnoreCase) || text.Contains('%'));

    /// <summary>
    /// <c>?model=x&amp;api_key=sk-1</c> -> <c>?model=x&amp;api_key=***</c>, <c>?alt=sse&amp;key=AIza</c> ->
    /// <c>?alt=sse&amp;key=***</c>. Names are compared as the server reads them, decoded and in any case
    /// (<c>api%5Fkey</c>, <c>API_KEY</c>, <c>%6Bey</c>); a name that only ends in "key" (<c>monkey=</c>) is left alone.
    /// </summary>
    public static string Redact(string text) => MayHoldKey(text) ? NameValue().Replace(text, RedactKey) : text;

    private static string RedactKey(Match match)
    {
        var name = match.Groups["name"].Value;
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(name.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return match.Value;
        }
        return decoded.Equals("api_key", StringComparison.OrdinalIgnoreCase) || decoded.Equals("key", StringComparison.OrdinalIgnoreCase)
            ? name + "=" + Redacted
            : match.Value;
    }

    [GeneratedRegex(@"(?<![\w.%-])(?<name>[\w%+-]+)=[^&#\s""']*", RegexOptions.CultureInvariant)]
    private static partial Regex NameValue();
}
