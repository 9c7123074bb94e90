using System.Globalization;
using System.Text.RegularExpressions;

namespace Orchestrator.OperatorConsole;

/// <summary>The console's names for failures: a few classes an operator acts on, from a status or a provider's error text.</summary>
public static partial class ErrorClasses
{
    /// <summary>The class of a status a client was given (README "Errors"); 499 is a client that went away.</summary>
    public static string OfStatus(int status) => status switch
    {
        400 or 413 or 422 => "invalid request",
        401 or 403 => "auth",
        402 => "no credit",
        404 => "not found",
        429 => "rate limited",
        499 => "client closed",
        502 => "upstream error",
        503 => "unavailable",
        504 => "timeout",
        >= 500 => "server error",
        _ => "client error",
    };

    /// <summary>A provider's last error (<c>HTTP 503 (simulated)</c>, <c>health check: ...</c>, a transport error's text).</summary>
    public static string OfProviderError(string error)
    {
        if (error.StartsWith("health check", StringComparison.Ordinal)) return "health check";
        if (StatusIn(error) is { } status) return status == 429 ? "rate limited" : status >= 500 ? "server error" : status is 401 or 403 ? "auth" : "refused";
        if (error.Contains("timeout", StringComparison.OrdinalIgnoreCase) || error.Contains("timed out", StringComparison.OrdinalIgnoreCase)) return "timeout";
        if (error.Contains("transport", StringComparison.OrdinalIgnoreCase) || error.Contains("connection", StringComparison.OrdinalIgnoreCase)) return "transport";
        return "provider error";
    }

    /// <summary>The status in an error text that names one as <c>HTTP nnn</c>.</summary>
    public static int? StatusIn(string error) =>
        HttpStatus().Match(error) is { Success: true } match ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"HTTP (\d{3})\b")]
    private static partial Regex HttpStatus();
}
