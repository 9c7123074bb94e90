namespace Orchestrator.Messages.Chat;

/// <summary>The API a request or answer is written in: a front speaks one, an upstream kind speaks one.</summary>
public enum Dialect
{
    /// <summary>OpenAI chat completions: the engine's own request and stream form.</summary>
    OpenAiChat,
    /// <summary>Anthropic Messages (<c>/v1/messages</c>).</summary>
    AnthropicMessages,
    /// <summary>OpenAI Responses (<c>/v1/responses</c>).</summary>
    OpenAiResponses,
    /// <summary>Google Gemini <c>generateContent</c>.</summary>
    Gemini,
}
