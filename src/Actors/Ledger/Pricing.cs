using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Actors.Ledger;

/// <summary>What tokens cost at a model's prices (USD per 1M tokens), exactly: decimal all the way.</summary>
public static class Pricing
{
    private const decimal PerMillion = 1_000_000m;

    /// <summary>Cached input at its own price, the rest of the input at the input price, output (reasoning included) at the output price.</summary>
    public static decimal Cost(Price price, UsageCounts usage)
    {
        var cached = Math.Min(usage.CachedInput, usage.Input);
        return ((usage.Input - cached) * price.Input + cached * price.CachedInput + usage.Output * price.Output) / PerMillion;
    }

    /// <summary>The most a request can cost: its prompt (estimated) at the input price and its output limit at the output price.</summary>
    public static decimal Reservation(Price price, long inputTokens, long maxOutputTokens) =>
        (inputTokens * price.Input + maxOutputTokens * price.Output) / PerMillion;
}
