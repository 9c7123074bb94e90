namespace Orchestrator.Messages.Answers;

/// <summary>
/// Why a choice ended, in words every dialect maps to:
/// OpenAI <c>stop | length | tool_calls | content_filter</c>,
/// Anthropic <c>end_turn | stop_sequence | max_tokens | tool_use | refusal</c>,
/// Gemini <c>STOP | MAX_TOKENS | SAFETY | RECITATION | ...</c>,
/// Responses <c>completed | incomplete (max_output_tokens | content_filter)</c>.
/// </summary>
public enum FinishReason
{
    /// <summary>A natural end or a stop sequence.</summary>
    Stop,
    /// <summary>The token limit.</summary>
    Length,
    /// <summary>The answer asks for tool calls (even when text came before them).</summary>
    ToolCalls,
    /// <summary>Blocked by a safety or content filter.</summary>
    ContentFilter,
}
