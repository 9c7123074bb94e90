using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Orchestrator.Actors.Simulator;

/// <summary>
/// What the simulator does wrong, so retry, fallback, truncation detection and resume can be shown from curl
/// and tested with no real provider. Written as <c>key=value</c> pairs separated by <c>;</c> or <c>,</c>
/// (<c>status=503;retry-after=2s;times=2</c>), in the <c>x-simulator-fault</c> header or a simulator provider's
/// <c>fault</c> key; see this folder's README.md for every key.
/// </summary>
public sealed record FaultPlan
{
    /// <summary>The value of <c>times=all</c>: every attempt is faulted.</summary>
    public const int AllAttempts = int.MaxValue;

    /// <summary>Longest delay a plan may ask for: a typo such as <c>first-byte-delay=5000</c> should not hang a test run for days.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromHours(1);

    private static readonly string[] KnownKeys =
        ["status", "code", "retry-after", "retry-after-ms", "first-byte-delay", "drop-after", "eof-after", "stall-after", "prefill", "times"];

    /// <summary>Refuse the attempt with this HTTP status (400-599).</summary>
    public int? Status { get; init; }

    /// <summary>The error code of the refusal (<c>context_length_exceeded</c>); only with <see cref="Status"/>.</summary>
    public string? Code { get; init; }

    /// <summary>How long the refusal asks the caller to wait; only with <see cref="Status"/>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>How long a faulted attempt waits before answering at all.</summary>
    public TimeSpan FirstByteDelay { get; init; }

    /// <summary>How a faulted stream breaks, if it does.</summary>
    public StreamBreak? Break { get; init; }

    /// <summary>Refuse any request whose last message is from the assistant (a prefill), on every attempt.</summary>
    public bool RefusePrefill { get; init; }

    /// <summary>How many attempts of a request the fault hits, counted from the first (<see cref="AllAttempts"/> for all).</summary>
    public int Times { get; init; } = 1;

    /// <summary>Whether attempt number <paramref name="attempt"/> (0 = the first) is faulted; <see cref="RefusePrefill"/> ignores this.</summary>
    public bool AppliesTo(int attempt) => attempt < Times;

    /// <summary>The plan in canonical form (lower case, fixed key order, durations in ms); parses back to an equal plan.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Status is { } status) parts.Add($"status={status}");
        if (Code is not null) parts.Add($"code={Code}");
        if (RetryAfter is { } retryAfter) parts.Add($"retry-after={Millis(retryAfter)}");
        if (FirstByteDelay > TimeSpan.Zero) parts.Add($"first-byte-delay={Millis(FirstByteDelay)}");
        if (Break is { } streamBreak) parts.Add($"{streamBreak.Key}={streamBreak.AfterTokens}");
        if (RefusePrefill) parts.Add("prefill=refuse");
        // times alone when nothing else is set, so that even a plan that does nothing prints as one that parses.
        if (Times != 1 || parts.Count == 0) parts.Add(Times == AllAttempts ? "times=all" : $"times={Times}");
        return string.Join(';', parts);
    }

    private static string Millis(TimeSpan span) => span.TotalMilliseconds.ToString("R", CultureInfo.InvariantCulture) + "ms";

    /// <summary>Parses a plan; <paramref name="error"/> says what is wrong and names the key.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out FaultPlan? plan, [NotNullWhen(false)] out string? error)
    {
        error = Parse(text ?? "", out plan);
        return error is null;
    }

    private static string? Parse(string text, out FaultPlan? plan)
    {
        plan = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var parsed = new FaultPlan();
        foreach (var pair in text.Split([';', ','], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            if (equals < 0) return $"'{pair}' has no value (expected key=value, e.g. status=503)";
            var key = pair[..equals].Trim().ToLowerInvariant();
            var value = pair[(equals + 1)..].Trim();
            if (!KnownKeys.Contains(key))
                return $"'{pair[..equals].Trim()}' is not a fault key (expected one of {string.Join(", ", KnownKeys)})";
            if (value.Length == 0) return $"{key}: has no value";
            if (!seen.Add(key)) return $"{key}: is given twice";
            var problem = Apply(ref parsed, key, value);
            if (problem is not null) return $"{key}: {problem}";
        }
        if (seen.Count == 0) return "the plan is empty (expected key=value pairs, e.g. status=503;times=2)";

        if (parsed.Status is null)
        {
            // A refusal's details without a refusal is almost certainly a mistyped plan, not an intent.
            foreach (var key in new[] { "code", "retry-after", "retry-after-ms" })
                if (seen.Contains(key)) return $"{key}: needs status (only a refused attempt carries it)";
        }
        else if (parsed.Break is { } streamBreak)
        {
            return $"{streamBreak.Key}: cannot be combined with status (a refused attempt sends no stream)";
        }
        plan = parsed;
        return null;
    }

    /// <summary>Sets one key on <paramref name="plan"/>, or says what is wrong with its value.</summary>
    private static string? Apply(ref FaultPlan plan, string key, string value)
    {
        switch (key)
        {
            case "status":
                if (!TryWhole(value, out var status) || status is < 400 or > 599) return $"'{value}' is not an error status (400-599)";
                plan = plan with { Status = status };
                return null;
            case "code":
                if (value.Length > 64 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
                    return $"'{value}' is not an error code (letters, digits, '_', '-' or '.', at most 64)";
                plan = plan with { Code = value };
                return null;
            case "retry-after" or "retry-after-ms":
                if (plan.RetryAfter is not null) return "cannot be combined with the other of retry-after and retry-after-ms";
                var retryProblem = key == "retry-after" ? Duration(value, out var retryAfter) : Millis(value, out retryAfter);
                if (retryProblem is not null) return retryProblem;
                plan = plan with { RetryAfter = retryAfter };
                return null;
            case "first-byte-delay":
                var delayProblem = Duration(value, out var delay);
                if (delayProblem is not null) return delayProblem;
                plan = plan with { FirstByteDelay = delay };
                return null;
            case "drop-after" or "eof-after" or "stall-after":
                var kind = key switch { "drop-after" => StreamBreakKind.Drop, "eof-after" => StreamBreakKind.Eof, _ => StreamBreakKind.Stall };
                if (plan.Break is { } other) return $"cannot be combined with {other.Key} (a stream breaks only one way)";
                if (!TryWhole(value, out var tokens)) return $"'{value}' is not a token count (a whole number, 0 or more)";
                plan = plan with { Break = new StreamBreak(kind, tokens) };
                return null;
            case "prefill":
                if (!value.Equals("refuse", StringComparison.OrdinalIgnoreCase)) return $"'{value}' is not supported (the only value is refuse)";
                plan = plan with { RefusePrefill = true };
                return null;
            case "times":
                if (value.Equals("all", StringComparison.OrdinalIgnoreCase)) plan = plan with { Times = AllAttempts };
                else if (TryWhole(value, out var times) && times >= 1) plan = plan with { Times = times };
                else return $"'{value}' is not an attempt count (a whole number, 1 or more, or all)";
                return null;
            default:
                throw new UnreachableException($"key '{key}' is known but not handled");
        }
    }

    private static bool TryWhole(string value, out int number) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number);

    /// <summary><c>2s</c>, <c>500ms</c>, <c>1.5s</c>, or a bare number of seconds.</summary>
    private static string? Duration(string value, out TimeSpan span)
    {
        var number = value;
        var unitMs = 1000.0;
        if (value.EndsWith("ms", StringComparison.OrdinalIgnoreCase))
        {
            number = value[..^2];
            unitMs = 1;
        }
        else if (value.EndsWith('s') || value.EndsWith('S'))
        {
            number = value[..^1];
        }
        return Scaled(number.TrimEnd(), unitMs, value, "a duration (e.g. 2s, 500ms, 1.5s)", out span);
    }

    private static string? Millis(string value, out TimeSpan span) =>
        Scaled(value, 1, value, "a number of milliseconds", out span);

    private static string? Scaled(string number, double unitMs, string value, string expected, out TimeSpan span)
    {
        span = TimeSpan.Zero;
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || !double.IsFinite(amount))
            return $"'{value}' is not {expected}";
        var millis = amount * unitMs;
        if (millis > MaxDelay.TotalMilliseconds) return $"'{value}' is longer than the {MaxDelay.TotalHours:0}h a plan may ask for";
        span = TimeSpan.FromMilliseconds(millis);
        return null;
    }
}
