using System.Buffers;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// An Anthropic Messages body -> the engine's <see cref="ChatRequest"/>: parsed and validated by
/// <see cref="MessagesRequest"/>, translated to an OpenAI chat body that <see cref="ChatRequestReader.Parse"/> reads
/// like any other, with the caller's own body kept as <see cref="ChatRequest.Native"/>.
/// </summary>
public static class MessagesRequestReader
{
    public static ChatRequestReader.Result Parse(ReadOnlySequence<byte> body)
    {
        if (body.IsEmpty) return Fail("The request body is empty; expected a JSON object with 'model', 'max_tokens' and 'messages'.");
        if (!TryParseJson(body, out var root, out var problem)) return Fail(problem);

        var translation = MessagesRequest.Translate(root);
        if (translation.Error is { } invalid) return new ChatRequestReader.Result(null, invalid);
        var parsed = ChatRequestReader.Parse(new ReadOnlySequence<byte>(translation.ChatBody!));
        return parsed.Request is { } chat
            ? new ChatRequestReader.Result(chat with { Native = new NativeRequest(Dialect.AnthropicMessages, root), Dropped = translation.Dropped }, null)
            : parsed;
    }

    /// <summary>The body as one JSON value, or a message saying where it broke (without echoing it back).</summary>
    public static bool TryParseJson(ReadOnlySequence<byte> body, out JsonElement root, out string problem) =>
        Orchestrator.Actors.Dialects.JsonBody.TryParse(body, out root, out problem);

    private static ChatRequestReader.Result Fail(string message) => new(null, ApiError.InvalidRequest(message, null, "invalid_json"));
}
