using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Messages.Upstream;

/// <summary>One route of a model: which provider, and the model name that provider knows it by.</summary>
public sealed record RouteTarget(string Provider, string UpstreamModel)
{
    /// <summary>The model's <c>max-tokens-default</c>: sent to upstreams that require a limit (Anthropic) when the caller set none.</summary>
    public int MaxTokensDefault { get; init; } = 4096;
}

/// <summary>
/// Sent to a provider actor: try this request on this route and report to <paramref name="ReplyTo"/>.
/// <paramref name="Attempt"/> counts the request's attempts over every route (0 = first); no headers within
/// <paramref name="FirstByteTimeout"/> fails the attempt.
/// </summary>
public sealed record StartAttempt(string RequestId, ChatRequest Request, RouteTarget Route, int Attempt, TimeSpan FirstByteTimeout, IActorRef ReplyTo)
{
    /// <summary>
    /// Every route of the model refused this request as open or parked: the provider admits it anyway, as a trial
    /// whose verdict its breaker learns from (Envoy's panic threshold, YARP's HealthyOrPanic).
    /// </summary>
    public bool Panic { get; init; }

    /// <summary>The request's span: the attempt's span goes under it, and it is what goes upstream as <c>traceparent</c>.</summary>
    public System.Diagnostics.ActivityContext Trace { get; init; }

    /// <summary>Whether the upstream call carries <see cref="Trace"/> as its <c>traceparent</c> even when no span is recorded.</summary>
    public bool PropagateTrace { get; init; }

    /// <summary>When the request arrived at the relay (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>; 0: unknown).</summary>
    public long ReceivedAt { get; init; }
}

/// <summary>Stop the attempt for this request, closing its upstream call.</summary>
public sealed record CancelAttempt(string RequestId);

/// <summary>An attempt's outcome: one of the records below.</summary>
public interface IAttemptOutcome
{
    string RequestId { get; }
    string Provider { get; }
}

public sealed record AttemptFailed(string RequestId, string Provider, UpstreamFailure Failure) : IAttemptOutcome;

/// <summary>The provider is streaming: <paramref name="Body"/> is its <c>text/event-stream</c> body, read when the answer runs.</summary>
public sealed record AttemptStreaming(string RequestId, string Provider, StreamedBody Body) : IAttemptOutcome;

/// <summary>A whole answer: <paramref name="Body"/> is the <c>chat.completion</c> JSON as the provider sent it.</summary>
public sealed record AttemptCompleted(string RequestId, string Provider, ReadOnlyMemory<byte> Body) : IAttemptOutcome
{
    public UpstreamTiming Timing { get; init; }

    /// <summary>The provider's own answer to a native request (<see cref="Body"/> is its chat form, for billing).</summary>
    public ReadOnlyMemory<byte>? Native { get; init; }
}

/// <summary>
/// When an attempt's upstream request started (<paramref name="SentAt"/>) and its whole answer was in
/// (<paramref name="AnsweredAt"/>), as <see cref="System.Diagnostics.Stopwatch"/> timestamps (0: unknown), and how
/// long the relay took from the request's arrival to that start (<paramref name="ToUpstream"/>, on a first attempt
/// only: a later one waited for the failed ones, which is not the relay's time).
/// </summary>
public readonly record struct UpstreamTiming(int Attempt, long SentAt, long AnsweredAt, TimeSpan? ToUpstream);

/// <summary>
/// An attempt is over, for the provider's health: <paramref name="Failure"/> is null when it answered (a whole
/// completion, or a stream that ended after its finish_reason). A cancelled attempt is never reported.
/// </summary>
public sealed record AttemptSettled(string RequestId, UpstreamFailure? Failure)
{
    /// <summary>Malformed events the attempt's stream passed over (counted for the provider's status).</summary>
    public int SkippedEvents { get; init; }

    /// <summary>The attempt was a panic trial (<see cref="StartAttempt.Panic"/>): a success lifts a park as well.</summary>
    public bool Panic { get; init; }
}

/// <summary>What a request's routing did with a provider, for its counters.</summary>
public enum RoutingEvent
{
    Retry,
    Fallback,
    Resume,
}

/// <summary>Told to a provider actor when a request retried on it, fell back from it, or resumed a stream on it.</summary>
public sealed record RoutingNoted(string RequestId, RoutingEvent Event);

/// <summary>A route refused an assistant prefill: resume stops trying prefill on it (told to the front, which remembers).</summary>
public sealed record PrefillRefused(string Provider, string UpstreamModel);
