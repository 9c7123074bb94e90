using Akka;
using Akka.Streams.Dsl;
using Orchestrator.Messages.Api;

namespace Orchestrator.Messages.Chat;

/// <summary>The front's answer to <see cref="CreateChat"/>: one of the records below.</summary>
public interface IChatReply
{
    string RequestId { get; }
}

/// <summary>A reply that starts an answer, with headers the answer carries beside its own (a key's rate limits).</summary>
public interface IChatAnswer : IChatReply
{
    string Provider { get; }

    IReadOnlyList<KeyValuePair<string, string>> Headers { get; }
}

public sealed record ChatRejected(string RequestId, ApiError Error) : IChatReply;

/// <summary>
/// The upstream accepted the request and is streaming. <paramref name="Answer"/> can be run once; running it
/// pulls from the upstream at the consumer's pace, and cancelling it cancels the upstream call.
/// <paramref name="Provider"/> names who answered.
/// </summary>
public sealed record ChatStreaming(string RequestId, string Provider, Source<AnswerBlock, NotUsed> Answer) : IChatAnswer
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}

/// <summary>A whole answer: <paramref name="Body"/> is the <c>chat.completion</c> JSON as the provider sent it.</summary>
public sealed record ChatCompleted(string RequestId, string Provider, ReadOnlyMemory<byte> Body) : IChatAnswer
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The provider's own answer when it took the request as the client wrote it (a native Responses route); <see cref="Body"/> is its chat form.</summary>
    public ReadOnlyMemory<byte>? Native { get; init; }

    /// <summary>When the attempt that answered went upstream and when its answer was in (for the relay's overhead).</summary>
    public Upstream.UpstreamTiming Timing { get; init; }

    public ChatCompletion Parse() => System.Text.Json.JsonSerializer.Deserialize(Body.Span, WireJson.Default.ChatCompletion)!;
}
