namespace Orchestrator.Messages.Answers;

/// <summary>
/// Token counts of one answer, in one convention so no dialect's numbers are double counted:
/// <see cref="InputTokens"/> counts every input token, cached or not, as OpenAI's <c>prompt_tokens</c> does.
/// Anthropic's <c>input_tokens</c> excludes cache reads and writes: it is <c>InputTokens - CacheReadTokens - CacheWriteTokens</c>.
/// <see cref="ReasoningTokens"/> are part of <see cref="OutputTokens"/> (OpenAI's and Gemini's convention).
/// </summary>
/// <param name="Estimated">The upstream sent no usage and these are our estimate: reported as such, never as zero.</param>
public sealed record TokenUsage(int InputTokens, int OutputTokens, int CacheReadTokens = 0, int CacheWriteTokens = 0, int ReasoningTokens = 0, bool Estimated = false)
{
    public int TotalTokens => InputTokens + OutputTokens;

    /// <summary>Anthropic's <c>input_tokens</c>: the input that was neither read from nor written to the cache.</summary>
    public int UncachedInputTokens => Math.Max(0, InputTokens - CacheReadTokens - CacheWriteTokens);
}
