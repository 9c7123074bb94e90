namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>A body that is not a GenerateContentRequest: unwinds the translation at the first problem, never leaves it.</summary>
internal sealed class InvalidGeminiRequestException(string message) : Exception(message);
