using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Messages.Upstream;

/// <summary>One route of a model: which provider, and the model name that provider knows it by.</summary>
public sealed record RouteTarget(string Provider, string UpstreamModel);

/// <summary>Sent to a provider actor: try this request on this route and report to <paramref name="ReplyTo"/>.</summary>
public sealed record StartAttempt(string RequestId, ChatRequest Request, RouteTarget Route, IActorRef ReplyTo);

/// <summary>Stop the attempt for this request, closing its upstream call.</summary>
public sealed record CancelAttempt(string RequestId);

/// <summary>An attempt's outcome: one of the records below.</summary>
public interface IAttemptOutcome
{
    string RequestId { get; }
    string Provider { get; }
}

public sealed record AttemptFailed(string RequestId, string Provider, UpstreamFailure Failure) : IAttemptOutcome;

public sealed record AttemptStreaming(string RequestId, string Provider, Source<ChatCompletionChunk, NotUsed> Chunks) : IAttemptOutcome;

public sealed record AttemptCompleted(string RequestId, string Provider, ChatCompletion Completion) : IAttemptOutcome;
