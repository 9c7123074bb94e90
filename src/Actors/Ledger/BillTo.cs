using Akka.Actor;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Streams;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger;

/// <summary>Where a billed request settles when it ends: the ledger, the key, and the model's prices.</summary>
public sealed record BillTo(IActorRef Ledger, string KeyId, Price Price, DateTimeOffset StartedAt)
{
    /// <summary>The key's rate-limit headers as admission left them (<see cref="Messages.Ledger.Admitted.Headers"/>), for the answer.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>
    /// The request's one settlement, ending now: what it used (nothing, for a request that never ran) at the model's
    /// prices, and how it ended.
    /// </summary>
    public void Settle(string requestId, string model, string provider, UsageCounts used, int status, string? finishReason, double? ttftMs) =>
        Ledger.Tell(new Messages.Ledger.Settle(KeyId, new UsageRecord(requestId, KeyId, model, provider,
            used.Input, Math.Min(used.CachedInput, used.Input), used.Output, used.Reasoning, Pricing.Cost(Price, used),
            status, finishReason, used.Estimated, StartedAt, DateTimeOffset.UtcNow, ttftMs)));
}
