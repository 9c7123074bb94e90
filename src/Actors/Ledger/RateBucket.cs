namespace Orchestrator.Actors.Ledger;

/// <summary>
/// A token bucket that refills <see cref="Capacity"/> per minute, continuously: RPM takes one per request, TPM the
/// request's reserved tokens (given back at settlement when it used fewer). Time comes from the caller (the actor's
/// scheduler), so tests run it on virtual time.
/// </summary>
public sealed class RateBucket(long capacity, DateTimeOffset now)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private double _tokens = capacity;
    private DateTimeOffset _at = now;

    public long Capacity { get; } = capacity;

    public long Remaining(DateTimeOffset now)
    {
        Refill(now);
        return (long)Math.Floor(_tokens);
    }

    /// <summary>Takes <paramref name="count"/> (a request larger than the whole bucket waits for a full one); otherwise says how long until it could.</summary>
    public bool TryTake(long count, DateTimeOffset now, out TimeSpan wait)
    {
        Refill(now);
        var needed = Math.Min(count, Capacity);
        if (_tokens >= needed)
        {
            _tokens -= needed;
            wait = TimeSpan.Zero;
            return true;
        }
        wait = TimeSpan.FromTicks((long)Math.Ceiling((needed - _tokens) / Capacity * Window.Ticks));
        return false;
    }

    public void Give(long count) => _tokens = Math.Min(Capacity, _tokens + Math.Max(0, count));

    /// <summary>Until the bucket is full again.</summary>
    public TimeSpan UntilFull(DateTimeOffset now)
    {
        Refill(now);
        return TimeSpan.FromTicks((long)Math.Ceiling((Capacity - _tokens) / Capacity * Window.Ticks));
    }

    private void Refill(DateTimeOffset now)
    {
        if (now <= _at) return;
        _tokens = Math.Min(Capacity, _tokens + (now - _at).Ticks / (double)Window.Ticks * Capacity);
        _at = now;
    }

    /// <summary>As OpenAI writes a reset time: "20ms", "1.5s", "6m0s".</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1)) return $"{Math.Max(0, (int)Math.Ceiling(span.TotalMilliseconds))}ms";
        if (span < TimeSpan.FromMinutes(1)) return $"{Math.Round(span.TotalSeconds, 3).ToString(System.Globalization.CultureInfo.InvariantCulture)}s";
        return $"{(int)span.TotalMinutes}m{span.Seconds}s";
    }
}
