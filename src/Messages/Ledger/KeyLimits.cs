namespace Orchestrator.Messages.Ledger;

/// <summary>A key's limits; null means no limit of that kind.</summary>
public sealed record KeyLimits(int? Rpm, int? Tpm, int? MaxConcurrent)
{
    public static readonly KeyLimits None = new(null, null, null);
}
