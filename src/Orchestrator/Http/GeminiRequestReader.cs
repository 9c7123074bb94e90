using System.Buffers;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Fronts.Gemini;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// A Gemini <c>GenerateContentRequest</c> -> the engine's <see cref="ChatRequest"/>: translated by
/// <see cref="GeminiFrontRequest"/> into an OpenAI chat body that <see cref="ChatRequestReader.Parse"/> reads like any
/// other, with the caller's own body kept as <see cref="ChatRequest.Native"/> and what the translation left out as
/// <see cref="ChatRequest.Dropped"/>. The model and whether to stream come from the URL, as Gemini has them.
/// </summary>
public static class GeminiRequestReader
{
    public static Func<ReadOnlySequence<byte>, ChatRequestReader.Result> Parser(string model, bool stream) => body => Parse(body, model, stream);

    public static ChatRequestReader.Result Parse(ReadOnlySequence<byte> body, string model, bool stream)
    {
        if (body.IsEmpty) return Fail("The request body is empty; expected a GenerateContentRequest JSON object with 'contents'.");
        if (!JsonBody.TryParse(body, out var root, out var problem)) return Fail(problem);

        var translation = GeminiFrontRequest.Translate(root, model, stream);
        if (translation.Error is { } invalid) return new ChatRequestReader.Result(null, invalid);
        var parsed = ChatRequestReader.Parse(new ReadOnlySequence<byte>(translation.ChatBody!));
        return parsed.Request is { } chat
            ? new ChatRequestReader.Result(chat with { Native = new NativeRequest(Dialect.Gemini, root), Dropped = translation.Dropped }, null)
            : parsed;
    }

    private static ChatRequestReader.Result Fail(string message) => new(null, ApiError.InvalidRequest(message, null, "invalid_json"));
}
