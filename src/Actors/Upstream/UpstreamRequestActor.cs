using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Telemetry;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// One attempt of one request on one provider: sends it, reports the outcome to its parent, and while the answer
/// streams, owns the upstream response. The stream itself runs where it is consumed (the HTTP edge or an embedding
/// caller), fused with the write to the client, so a slow reader slows the upstream read; this actor only hears
/// when it starts and ends, and can stop it. When this actor stops, the upstream call is closed.
/// </summary>
public sealed class UpstreamRequestActor : UntypedActor, IWithTimers
{
    private const string FirstByteTimer = "first-byte-timeout";
    private const string SubscribeTimer = "subscribe-timeout";

    /// <summary>A stream handed out but never run (its caller vanished) is released after this long.</summary>
    internal static readonly TimeSpan SubscribeTimeout = TimeSpan.FromSeconds(30);

    private sealed record Responded(UpstreamResponse Response);
    private sealed record SendFailed(Exception Cause);
    private sealed record FirstByteExpired
    {
        public static readonly FirstByteExpired Instance = new();
    }
    private sealed record SubscribeExpired
    {
        public static readonly SubscribeExpired Instance = new();
    }

    private readonly StartAttempt _attempt;
    private readonly IUpstreamClient _client;
    private readonly CancellationTokenSource _cancel = new();
    private ILoggingAdapter? _log;
    private IDisposable? _release;
    private AttemptTelemetry _telemetry;

    public ITimerScheduler Timers { get; set; } = null!;

    public UpstreamRequestActor(StartAttempt attempt, IUpstreamClient client)
    {
        _attempt = attempt;
        _client = client;
    }

    public static Props Props(StartAttempt attempt, IUpstreamClient client) =>
        Akka.Actor.Props.CreateBy(new FactoryProducer<UpstreamRequestActor>(() => new UpstreamRequestActor(attempt, client)));

    private string Provider => _attempt.Route.Provider;

    /// <summary>Made at its first line (most attempts log none): a logger costs its actor path as a string.</summary>
    private ILoggingAdapter Log => _log ??= SessionTelemetry.Logger(Context, _attempt.Trace);

    protected override void PreStart()
    {
        Timers.StartSingleTimer(FirstByteTimer, FirstByteExpired.Instance, _attempt.FirstByteTimeout);
        var call = new UpstreamCall(_attempt.RequestId, _attempt.Request, _attempt.Route.UpstreamModel) { Attempt = _attempt.Attempt, MaxTokensDefault = _attempt.Route.MaxTokensDefault };
        var handoff = _handoff;
        _telemetry = AttemptTelemetry.Start(_attempt);
        // Current while the send starts, so the HTTP client sends its traceparent upstream (and only while it starts:
        // this thread runs other actors next).
        using (_telemetry.MakeCurrent())
        {
            _client.SendAsync(call, _cancel.Token)
                .PipeTo(Self, success: r => new Responded(handoff.Offer(r)), failure: ex => new SendFailed(ex));
        }
    }

    /// <summary>
    /// Passes a response from the send's continuation to the actor. If the actor stopped first (first-byte timeout,
    /// cancel), the response would die as a dead letter with its upstream body still open: whichever side comes
    /// second closes it instead.
    /// </summary>
    private sealed class Handoff
    {
        private readonly Lock _lock = new();
        private bool _closed;
        private UpstreamStream? _untaken;

        public UpstreamResponse Offer(UpstreamResponse response)
        {
            lock (_lock)
            {
                if (response is not UpstreamStream stream) return response;
                if (_closed) stream.Body.Dispose();
                else _untaken = stream;
                return response;
            }
        }

        /// <summary>The actor has the response: from now on it is the actor's to close.</summary>
        public void Take()
        {
            lock (_lock) _untaken = null;
        }

        public void Close()
        {
            lock (_lock)
            {
                _closed = true;
                _untaken?.Body.Dispose();
                _untaken = null;
            }
        }
    }

    private readonly Handoff _handoff = new();

    // ---- states: a method each, switched with Become (an UntypedActor, not a ReceiveActor: see README.md) --------

    /// <summary>The first state: <see cref="Sending"/>.</summary>
    protected override void OnReceive(object message) => Sending(message);

    private void Sending(object message)
    {
        switch (message)
        {
            case Responded responded:
                OnResponded(responded);
                break;
            case SendFailed failed:
                Fail(FailureClassifier.FromException(failed.Cause));
                break;
            case FirstByteExpired:
                Fail(new UpstreamFailure(FailureKind.Timeout, null, $"no response headers within first-byte-timeout ({_attempt.FirstByteTimeout.TotalSeconds:0.###}s)"));
                break;
            case CancelAttempt:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandedOver(object message)
    {
        switch (message)
        {
            case BodyReadStarted:
                Timers.Cancel(SubscribeTimer);
                break;
            case BodyReadEnded ended:
                OnStreamEnded(ended);
                break;
            case SubscribeExpired:
                Log.Warning("Request {RequestId}: the stream from {Provider} was never read; releasing it", _attempt.RequestId, Provider);
                Context.Stop(Self);
                break;
            case CancelAttempt:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnResponded(Responded responded)
    {
        _handoff.Take();
        Timers.Cancel(FirstByteTimer);
        switch (responded.Response)
        {
            case UpstreamRefusal refusal:
                Fail(refusal.Failure);
                break;
            case UpstreamCompletion completion:
                _telemetry.Succeeded(completion.Body);
                Context.Parent.Tell(new AttemptCompleted(_attempt.RequestId, Provider, completion.Body) { Timing = _telemetry.Timing(answered: true), Native = completion.Native });
                Context.Stop(Self);
                break;
            case UpstreamStream stream:
                _release = stream.Body;
                Timers.StartSingleTimer(SubscribeTimer, SubscribeExpired.Instance, SubscribeTimeout);
                Context.Parent.Tell(new AttemptStreaming(_attempt.RequestId, Provider, stream.Body with { Attempt = Self, Stop = _cancel.Token, Timing = _telemetry.Timing(answered: false) }));
                Become(HandedOver);
                break;
        }
    }

    private void OnStreamEnded(BodyReadEnded ended)
    {
        if (ended.Cause is { } cause)
        {
            var failure = FailureClassifier.FromException(cause);
            _telemetry.Failed(failure);
            Log.Warning("Request {RequestId}: stream from {Provider} failed: {Failure}", _attempt.RequestId, Provider, failure.Message);
        }
        Context.Stop(Self);
    }

    private void Fail(UpstreamFailure failure)
    {
        _telemetry.Failed(failure);
        Context.Parent.Tell(new AttemptFailed(_attempt.RequestId, Provider, failure));
        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        // Closing the call: an unfinished send is cancelled, a stream still running is aborted (its body closes).
        _handoff.Close();
        // Cancelling also stops a body still being read (the answer stream ends that segment).
        _cancel.Cancel();
        _cancel.Dispose();
        _release?.Dispose();
        _telemetry.Stop();
    }
}
