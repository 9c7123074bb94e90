namespace Orchestrator.Messages.Ledger;

/// <summary>
/// A slice of the usage records: one key's or all, <c>Since &lt;= started_at &lt; Until</c> (either end open when
/// null), at most <see cref="Limit"/> records, oldest first.
/// </summary>
public sealed record UsageQuery(string? KeyId, DateTimeOffset? Since, DateTimeOffset? Until, int Limit);
