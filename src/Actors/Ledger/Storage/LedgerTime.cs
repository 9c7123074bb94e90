using System.Globalization;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// Ledger timestamps: UTC, to the microsecond (PostgreSQL's <c>timestamptz</c> keeps no finer), the same in every
/// store. On SQLite they are fixed-width ISO-8601 text, so text order is time order and the indexes on
/// <c>started_at</c> serve range queries.
/// </summary>
internal static class LedgerTime
{
    private const string TextFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static DateTimeOffset Normalize(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % 10, TimeSpan.Zero);
    }

    public static string ToText(DateTimeOffset time) =>
        Normalize(time).UtcDateTime.ToString(TextFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset FromText(string text) =>
        DateTimeOffset.ParseExact(text, TextFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
