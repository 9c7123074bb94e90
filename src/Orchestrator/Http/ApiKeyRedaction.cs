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

    /// <summary>Cheap test first: almost no log text holds a query string at all.</summary>
    public static bool MayHoldKey(string text) => text.Contains("key=", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>?model=x&amp;api_key=sk-1</c> -> <c>?model=x&amp;api_key=***</c>, <c>?alt=sse&amp;key=AIza</c> ->
    /// <c>?alt=sse&amp;key=***</c>; a name that only ends in "key" (<c>monkey=</c>) is left alone.
    /// </summary>
    public static string Redact(string text) => MayHoldKey(text) ? KeyValue().Replace(text, "${name}=" + Redacted) : text;

    [GeneratedRegex(@"(?<![\w.%-])(?<name>(?:api_)?key)=[^&#\s""']*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyValue();
}
