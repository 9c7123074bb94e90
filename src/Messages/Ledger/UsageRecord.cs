namespace Orchestrator.Messages.Ledger;

/// <summary>
/// What one request cost, as <c>/admin/usage</c> reports it (one row of the <c>usage</c> table, written once per
/// request id). <see cref="CostUsd"/> is exact; times are UTC, kept to the microsecond.
/// </summary>
/// <param name="UsageEstimated">The upstream sent no usage (a stream cut by the client): the tokens are our estimate.</param>
/// <param name="TtftMs">Time to the first token, for streamed answers; null when nothing was streamed.</param>
public sealed record UsageRecord(
    string RequestId,
    string KeyId,
    string Model,
    string Provider,
    long InputTokens,
    long CachedInputTokens,
    long OutputTokens,
    long ReasoningTokens,
    decimal CostUsd,
    int Status,
    string? FinishReason,
    bool UsageEstimated,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    double? TtftMs);
