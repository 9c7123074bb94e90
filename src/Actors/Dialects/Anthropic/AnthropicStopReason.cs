using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>Anthropic's words for how an answer ended and what went wrong, in the canonical ones.</summary>
public static class AnthropicStopReason
{
    public static FinishReason ToFinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => FinishReason.Length,
        "tool_use" => FinishReason.ToolCalls,
        "refusal" => FinishReason.ContentFilter,
        _ => FinishReason.Stop,   // end_turn, stop_sequence, pause_turn
    };

    /// <summary>The HTTP status Anthropic sends with each error type (its errors page), for an error reported mid-stream.</summary>
    public static int Status(string? errorType) => errorType switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,   // api_error and anything newer
    };

    /// <summary>An <c>event: error</c> as a failed answer. The message is ours: an upstream's text never reaches the client.</summary>
    public static ApiError StreamError(string? errorType)
    {
        var type = string.IsNullOrEmpty(errorType) ? "api_error" : errorType;
        return new ApiError(Status(type), $"The upstream reported {ApiError.Quote(type)} mid-stream.", type, null, type);
    }
}
