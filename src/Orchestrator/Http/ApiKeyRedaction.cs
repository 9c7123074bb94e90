using System.Text.RegularExpressions;

namespace Orchestrator.Http;

/// <summary>
/// The realtime front takes its key in the <c>api_key</c> query parameter (browsers cannot set headers on a
/// WebSocket), so any text that may hold a URL or query string is passed through here before it is logged.
/// </summary>
public static partial class ApiKeyRedaction
{
    public const string Redacted = "***";

    /// <summary>Cheap test first: almost no log text holds a query string at all.</summary>
    public static bool MayHoldKey(string text) => text.Contains("api_key", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>?model=x&amp;api_key=sk-1</c> -> <c>?model=x&amp;api_key=***</c>; also a percent-encoded name.</summary>
    public static string Redact(string text) => MayHoldKey(text) ? KeyValue().Replace(text, "${name}=" + Redacted) : text;

    [GeneratedRegex(@"(?<name>api_key)=[^&#\s""']*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyValue();
}
