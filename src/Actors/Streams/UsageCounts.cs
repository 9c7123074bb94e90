namespace Orchestrator.Actors.Streams;

/// <summary>
/// Token counts as an OpenAI usage object gives them (prompt tokens include the cached ones; completion tokens include
/// reasoning), summed over what a request is billed for. <see cref="Estimated"/>: some of it is the relay's estimate.
/// </summary>
public record struct UsageCounts(long Input, long CachedInput, long Output, long Reasoning, bool Estimated)
{
    public readonly bool IsZero => Input == 0 && Output == 0;

    public readonly UsageCounts Plus(UsageCounts other) => new(Input + other.Input, CachedInput + other.CachedInput,
        Output + other.Output, Reasoning + other.Reasoning, Estimated || other.Estimated);
}
