namespace Orchestrator.Actors.Dialects.Gemini;

/// <summary>
/// The caller's chat body cannot be said in Gemini's words (a tool call whose arguments are not a JSON object, a
/// tool result that answers no call): the caller's fault, refused with <see cref="Param"/> named instead of sent.
/// </summary>
public sealed class GeminiRequestException(string message, string param) : Exception(message)
{
    public string Param { get; } = param;
}
