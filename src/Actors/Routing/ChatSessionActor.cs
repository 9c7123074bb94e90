using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Streams;
using Orchestrator.Actors.Telemetry;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// One chat request, from the front's hand-off to the last chunk (<c>front/chat-N</c>). It owns every decision about
/// the request: which route next, whether to retry after a backoff, when to give up (<see cref="RetryPolicy"/>), and,
/// once answer text has reached the client, how to resume a broken stream (<see cref="ResumePlanner"/>). The client's
/// stream is built here once (<see cref="AnswerStream"/>, one stage) and spliced from attempts: when an attempt's
/// segment fails, the stream asks this actor for the next (<see cref="AnswerStream.SegmentFailed"/>) and carries on
/// with what it gets, so the client sees one answer with one id. Chunks never pass through this actor, only the few
/// messages per attempt.
/// <code>
///  Attempting ──AttemptStreaming──▶ Streaming ──SegmentFailed──▶ Resuming ──AttemptStreaming──▶ Streaming
///     ▲ │ failed: a backoff             │ total-timeout               ▲ │ failed: a backoff
///     │ ▼                               ▼                             │ ▼
///  WaitingToRetry                     Ending                       WaitingToRetry
/// </code>
/// </summary>
public sealed partial class ChatSessionActor : UntypedActor, IWithTimers
{
    private const string RetryTimer = "retry-backoff";

    /// <summary>The status a request is recorded with when its client went away first (nginx's 499).</summary>
    internal const int ClientClosed = 499;
    private const string TotalTimer = "total-timeout";
    private const string OutcomeTimer = "attempt-outcome";
    private const string ExpiryGraceTimer = "expiry-grace";

    /// <summary>Past first-byte-timeout plus this, an attempt that never reported (its connection died under it) is failed here.</summary>
    private static readonly TimeSpan OutcomeGrace = TimeSpan.FromSeconds(5);

    /// <summary>After total-timeout, how long a running stream has to take its error before the session stops regardless.</summary>
    private static readonly TimeSpan ExpiryGrace = TimeSpan.FromSeconds(5);

    private sealed record RetryDue(Step Step);
    private sealed record TotalExpired
    {
        public static readonly TotalExpired Instance = new();
    }
    private sealed record OutcomeOverdue(int Attempt);
    private sealed record ExpiryGraceOver
    {
        public static readonly ExpiryGraceOver Instance = new();
    }

    /// <summary>One attempt to make: a route, and the resume strategy to run there (null: the request as it came).</summary>
    private sealed record Step(int RouteIndex, ResumeStrategy? Strategy);

    private readonly CreateChat _command;
    private readonly IActorRef _caller;
    private readonly ModelSettings _model;
    private readonly OrchestratorSettings _settings;
    private readonly IReadOnlyDictionary<string, IActorRef> _providers;
    private readonly HashSet<(string Provider, string Model)> _noPrefill;
    private readonly SegmentLimits _limits;
    private readonly Transcript _transcript;
    private readonly SessionTelemetry _telemetry;
    private ILoggingAdapter? _log;
    private readonly List<string> _failures = [];
    private readonly List<UpstreamFailure> _tried = [];   // the failures of routes that were tried, for the reason they share
    private readonly Random _random = new();
    private DateTimeOffset _deadline;

    private int _routeIndex = -1;    // the route being tried (a resume step may run elsewhere)
    private int _retries;            // backoff retries on that route
    private int _attempts;
    private bool _freshRetryUsed;
    private bool _anyTried;          // a route answered at all (502), rather than every one being unavailable (503)
    private bool _launched;          // an attempt went out
    private ApiError? _onlyNative;   // why routes that read a translation were skipped (NativeRequest.OnlyNative)
    private int _refusedRoutes;      // routes whose provider refused at once (open circuit, park)
    private bool _panic;             // every route refused: they are tried again, admitted as trials
    private Step? _current;          // the last attempt started; null once a whole answer came
    private bool _continuation;      // the client has chunks (a role chunk) but no answer text
    private bool _answered;          // the caller has its reply, or no longer wants one
    private int _skippedSettled;
    private ResumePlan? _resume;     // the resume cycle in progress, from the first cut on

    // What the request is billed for, when it is (_bill): settled once, when this actor stops.
    private readonly BillTo? _bill;
    private UsageCounts _billed;
    private int _status = 500;       // until something better is known: a crash
    private string? _finishReason;
    private long _firstTokenAt;
    private string _answeredBy = "";

    public ITimerScheduler Timers { get; set; } = null!;

    public ChatSessionActor(CreateChat command, IActorRef caller, ModelSettings model, OrchestratorSettings settings,
        IReadOnlyDictionary<string, IActorRef> providers, IEnumerable<(string Provider, string Model)> noPrefill, BillTo? bill = null)
    {
        _command = command;
        _bill = bill;
        _caller = caller;
        _model = model;
        _settings = settings;
        _providers = providers;
        _noPrefill = [.. noPrefill];
        var singleChoice = SingleChoice(command.Request);
        _limits = new SegmentLimits(model.Limits.FirstTokenTimeout, model.Limits.IdleTimeout, command.Request.IncludeUsage, singleChoice)
        {
            Model = command.Request.Model,
            Input = new Dialects.InputEstimate(command.Request.Body),
            HideUsage = command.Request.UsageForBilling,
        };
        // Written only by the stream's stages; this actor hands it to them and reads snapshots. The text is kept
        // only when a resume could use it.
        _transcript = new Transcript(keepText: model.Resume.Enabled && model.Resume.MaxResumes > 0 && singleChoice);
        _telemetry = new SessionTelemetry(command, model.Id);
    }

    public static Props Props(CreateChat command, IActorRef caller, ModelSettings model, OrchestratorSettings settings,
        IReadOnlyDictionary<string, IActorRef> providers, IEnumerable<(string Provider, string Model)> noPrefill, BillTo? bill = null) =>
        Akka.Actor.Props.CreateBy(new FactoryProducer<ChatSessionActor>(() => new ChatSessionActor(command, caller, model, settings, providers, noPrefill, bill)));

    private string RequestId => _command.RequestId;

    /// <summary>Made at its first line (most requests log none): a logger costs its actor path as a string.</summary>
    private ILoggingAdapter Log => _log ??= SessionTelemetry.Logger(Context, _command.Trace);

    private RouteSettings Route(int index) => _model.Routes[index];
    private RouteSettings CurrentRoute => Route(_current!.RouteIndex);

    private readonly long _startedAt = System.Diagnostics.Stopwatch.GetTimestamp();

    protected override void PreStart()
    {
        _deadline = Context.System.Scheduler.Now + _model.Limits.TotalTimeout;
        Timers.StartSingleTimer(TotalTimer, TotalExpired.Instance, _model.Limits.TotalTimeout);
        StartRoute(0, asker: null);
    }

    protected override void PostStop()
    {
        // Stopped before answering (a bug of ours crashed it): the caller gets an answer instead of its timeout.
        if (!_answered) _caller.Tell(new ChatRejected(RequestId, ApiError.Internal("The request failed inside the relay.")));
        // Whatever is still open upstream for this request closes with it (a no-op when the attempt already ended).
        if (_current is not null) _providers[CurrentRoute.Provider].Tell(new CancelAttempt(RequestId));
        _telemetry.Ended(_billed.Estimated ? null : (_billed.Input, _billed.Output));
        SettleBill();
    }

    /// <summary>
    /// The request's one settlement: what the attempts that produced tokens used (failed attempts cost nothing), at
    /// the model's prices. Sent once, as this actor stops, whatever ended the request.
    /// </summary>
    private void SettleBill()
    {
        if (_bill is not { } bill) return;
        double? ttft = _firstTokenAt == 0 ? null : Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(_startedAt, _firstTokenAt).TotalMilliseconds, 3);
        // A demo route's answer (the shipped simulator behind a provider without a key) is made-up text: never billed
        // at the real model's price.
        if (_model.Routes.Any(r => r.Demo && r.Provider == _answeredBy)) bill = bill with { Price = Price.Free };
        bill.Settle(RequestId, _command.Request.Model, _answeredBy, _billed, _status, _finishReason, ttft);
    }

    // ---- states ------------------------------------------------------------------------------------------------
    // A method each, switched with Become; what a state does not handle falls through to InEveryState. An
    // UntypedActor, not a ReceiveActor, for what a ReceiveActor costs per request (see README.md).
    // asker: the client stream waiting for this actor's next segment; null while the caller waits for its reply.

    /// <summary>The first state: <see cref="Attempting"/>.</summary>
    protected override void OnReceive(object message) => Attempting(message);

    /// <summary>The caller waits for its reply and one attempt is out: its outcome is the reply, or decides what next.</summary>
    private void Attempting(object message)
    {
        switch (message)
        {
            case AttemptStreaming streaming:
                OnFirstStreaming(streaming);
                break;
            case AttemptCompleted completed:
                OnCompleted(completed);
                break;
            case AttemptFailed failed:
                OnAttemptFailed(failed, asker: null);
                break;
            case OutcomeOverdue overdue:
                OnOutcomeOverdue(overdue, asker: null);
                break;
            case TotalExpired:
                TimedOut(asker: null);
                break;
            default:
                InEveryState(message);
                break;
        }
    }

    /// <summary>A backoff runs before the next attempt; the caller (or, mid-stream, the client stream) waits.</summary>
    private void WaitingToRetry(object message, IActorRef? asker)
    {
        switch (message)
        {
            case RetryDue due:
                Launch(due.Step, asker);
                break;
            case TotalExpired:
                TimedOut(asker);
                break;
            default:
                InEveryState(message);
                break;
        }
    }

    /// <summary>The client has its stream and no attempt is out: the running segment ends whole, is cut, or the client stops reading.</summary>
    private void Streaming(object message)
    {
        switch (message)
        {
            case AnswerStream.SegmentFailed failed:
                OnSegmentFailed(failed);
                break;
            case AnswerStream.Ended ended:
                OnSegmentEnded(ended);
                break;
            case TotalExpired:
                ExpireStream();
                break;
            default:
                InEveryState(message);
                break;
        }
    }

    /// <summary>A segment failed and the client stream waits for the next one: a retry or resume attempt is out.</summary>
    private void Resuming(object message, IActorRef asker)
    {
        switch (message)
        {
            case AttemptStreaming streaming:
                OnNextStreaming(streaming, asker);
                break;
            case AttemptFailed failed:
                OnAttemptFailed(failed, asker);
                break;
            case OutcomeOverdue overdue:
                OnOutcomeOverdue(overdue, asker);
                break;
            case TotalExpired:
                TimedOut(asker);
                break;
            default:
                InEveryState(message);   // a streamed request is never answered whole: no AttemptCompleted here
                break;
        }
    }

    /// <summary>total-timeout passed mid-stream and the attempt was cancelled: the segment fails and the client hears the timeout.</summary>
    private void Ending(object message)
    {
        switch (message)
        {
            case AnswerStream.SegmentFailed failed:
            {
                var failure = Classify(failed);   // our own cancellation: nobody's fault at the provider, so not settled
                Log.Warning("Request {RequestId}: stream from {Provider} ended by total-timeout ({Kind}): {Failure}",
                    RequestId, CurrentRoute.Provider, failure.Kind, failure.Message);
                GiveUp(TotalTimeoutError(), Sender);
                break;
            }
            case AnswerStream.Ended ended:
                OnSegmentEnded(ended);   // it finished first
                break;
            case ExpiryGraceOver:
                Context.Stop(Self);
                break;
            default:
                InEveryState(message);
                break;
        }
    }

    /// <summary>What every state handles alike; anything else is unhandled (published as <see cref="UnhandledMessage"/>).</summary>
    private void InEveryState(object message)
    {
        switch (message)
        {
            case CancelChat:
                _status = ClientClosed;
                _answered = true;   // the caller gave up: nobody to answer
                _telemetry.Cancelled();
                Context.Stop(Self);
                break;
            // A late or repeated outcome (of an attempt cancelled or given up on) and stale ticks: nothing to decide.
            case IAttemptOutcome:
            case OutcomeOverdue:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // ---- attempts ----------------------------------------------------------------------------------------------

    private void StartRoute(int from, IActorRef? asker)
    {
        for (var i = from; i < _model.Routes.Length; i++)
        {
            var route = Route(i);
            if (_settings.Providers[route.Provider].UnavailableReason is { } reason)
            {
                _failures.Add($"{Describe(route)}: skipped, {reason}");
                continue;
            }
            // A request only its own dialect's upstream can answer (stored state): a translation would answer something else.
            if (_command.Request.Native is { OnlyNative: { } why } native && !_settings.Providers[route.Provider].Speaks(native.Dialect))
            {
                _onlyNative = why;
                _failures.Add($"{Describe(route)}: skipped, it reads a translation and {why.Message}");
                continue;
            }
            if (_current is not null) Log.Info("Request {RequestId}: falling back to {Provider}", RequestId, route.Provider);
            _routeIndex = i;
            _retries = 0;
            Launch(new Step(i, null), asker);
            return;
        }
        if (!_launched && _onlyNative is { } caller)
        {
            GiveUp(caller, asker);   // no route could take it: the caller's request, not the providers, is why
            return;
        }
        if (!_anyTried && !_panic && _refusedRoutes > 0)
        {
            Panic(asker);
            return;
        }
        GiveUp(Aggregate(), asker);
    }

    /// <summary>
    /// Every route that could be tried refused at once (open circuit, park): rather than a 503 for as long as the
    /// breakers stay open, each is tried once more, in order, as a trial the provider admits anyway. Like Envoy's
    /// panic threshold and YARP's HealthyOrPanic, health never takes every destination away; a provider without a
    /// key is still skipped.
    /// </summary>
    private void Panic(IActorRef? asker)
    {
        _panic = true;
        Log.Warning("Request {RequestId}: every route of model {Model} is open or parked; trying them anyway (panic mode)", RequestId, _model.Id);
        _failures.Clear();   // the refusals say nothing the trials won't
        StartRoute(0, asker);
    }

    private void Launch(Step step, IActorRef? asker)
    {
        var route = Route(step.RouteIndex);
        _launched = true;
        var request = step.Strategy is { } strategy ? ResumeRequests.For(_command.Request, strategy, _resume!.Text) : _command.Request;
        _current = step;
        Timers.StartSingleTimer(OutcomeTimer, new OutcomeOverdue(_attempts), _model.Limits.FirstByteTimeout + OutcomeGrace);
        _providers[route.Provider].Tell(new StartAttempt(
            RequestId, request, new RouteTarget(route.Provider, route.UpstreamModel) { MaxTokensDefault = _model.MaxTokensDefault }, _attempts++, _model.Limits.FirstByteTimeout, Self)
            { Panic = _panic, Trace = _telemetry.Trace, PropagateTrace = _command.PropagateTrace, ReceivedAt = _command.ReceivedAt });
        if (asker is null) Become(Attempting);
        else Become(message => Resuming(message, asker));
    }

    private void WaitThenLaunch(Step step, TimeSpan delay, IActorRef? asker)
    {
        Timers.StartSingleTimer(RetryTimer, new RetryDue(step), delay);
        Become(message => WaitingToRetry(message, asker));
    }

    private void OnFirstStreaming(AttemptStreaming streaming)
    {
        // Not settled yet: headers are no proof of an answer. The segment's end (whole or cut) settles it.
        Timers.Cancel(OutcomeTimer);
        _answered = true;
        _answeredBy = streaming.Provider;
        _transcript.Telemetry = _telemetry.Answering(streaming.Provider);
        _caller.Tell(new ChatStreaming(RequestId, streaming.Provider, ClientStream(streaming.Body)) { Headers = _bill?.Headers ?? [] });
        Become(Streaming);
    }

    private void OnNextStreaming(AttemptStreaming streaming, IActorRef asker)
    {
        Timers.Cancel(OutcomeTimer);
        var strategy = _current!.Strategy;
        if (strategy is not null)
        {
            Note(CurrentRoute, RoutingEvent.Resume);
            _telemetry.Resume(strategy.Value.ToString().ToLowerInvariant(), "resumed");
            Log.Info("Request {RequestId}: resuming on {Provider} by {Strategy}", RequestId, streaming.Provider, strategy);
        }
        _answeredBy = streaming.Provider;
        var plan = new SegmentPlan(_continuation || strategy is not null, strategy, strategy == ResumeStrategy.Replay ? _resume!.Text : null);
        asker.Tell(new AnswerStream.NextSegment(streaming.Body, plan, CurrentLimits()));
        Become(Streaming);
    }

    private void OnCompleted(AttemptCompleted completed)
    {
        Timers.Cancel(OutcomeTimer);
        Settle(null);
        _answered = true;
        BillCompletion(completed);   // with no ledger key too: its usage is the token metric's
        _telemetry.Answering(completed.Provider, completed.Body);
        _caller.Tell(new ChatCompleted(RequestId, completed.Provider, completed.Body) { Timing = completed.Timing, Headers = _bill?.Headers ?? [], Native = completed.Native });
        _current = null;
        Context.Stop(Self);
    }

    private void BillCompletion(AttemptCompleted completed)
    {
        _answeredBy = completed.Provider;
        _status = 200;
        byte[]? noText = null;
        if (!ChunkScan.TryScan(completed.Body.Span, false, ref noText, 0, out var facts)) return;
        _finishReason = facts.FinishReason;
        _billed = facts.HasUsage
            ? facts.Usage
            : new UsageCounts(_limits.Input!.Tokens, 0, 1, 0, Estimated: true);
    }

    private void OnAttemptFailed(AttemptFailed failed, IActorRef? asker)
    {
        Timers.Cancel(OutcomeTimer);
        Settle(failed.Failure);
        AfterFailure(failed.Failure, asker);
    }

    private void OnOutcomeOverdue(OutcomeOverdue overdue, IActorRef? asker)
    {
        if (overdue.Attempt != _attempts - 1) return;
        // Whatever is left of it is closed first, so a late report of it cannot pass for the next attempt's
        // (the provider handles this before any StartAttempt that follows: one sender, one order).
        _providers[CurrentRoute.Provider].Tell(new CancelAttempt(RequestId));
        OnAttemptFailed(new AttemptFailed(RequestId, CurrentRoute.Provider,
            new UpstreamFailure(FailureKind.Timeout, null, "the attempt never reported back (its connection went away)")), asker);
    }

    private void AfterFailure(UpstreamFailure failure, IActorRef? asker)
    {
        if (_current!.Strategy is null) Retry(failure, asker);
        else OnResumeStepFailed(failure, asker!);
    }

    /// <summary>Nothing of the answer reached the client yet: retry the route, move to the next, or give up.</summary>
    private void Retry(UpstreamFailure failure, IActorRef? asker)
    {
        var route = CurrentRoute;
        Log.Warning("Request {RequestId}: {Provider} failed ({Kind}): {Failure}", RequestId, route.Provider, failure.Kind, failure.Message);
        var upstream = _settings.Providers[route.Provider].Upstream;
        var context = new RetryContext(_routeIndex, _retries, _freshRetryUsed, _deadline - Context.System.Scheduler.Now) { Panic = _panic };
        switch (RetryPolicy.Decide(failure, upstream, _model.Routes, context, _random))
        {
            case RetryDecision.RetryNow:
                _freshRetryUsed = true;
                Launch(new Step(_routeIndex, null), asker);
                break;
            case RetryDecision.RetryAfter after:
                _retries++;
                Note(route, RoutingEvent.Retry);
                Log.Info("Request {RequestId}: retrying {Provider} in {DelayMs} ms (retry {Retry} of {MaxRetries})",
                    RequestId, route.Provider, (int)after.Delay.TotalMilliseconds, _retries, upstream.MaxRetries);
                WaitThenLaunch(new Step(_routeIndex, null), after.Delay, asker);
                break;
            case RetryDecision.LargeContextRoute larger:
                Record(route, failure);
                Note(route, RoutingEvent.Fallback);
                Log.Info("Request {RequestId}: too long for {Provider}, trying the large-context route {Larger}",
                    RequestId, route.Provider, Route(larger.RouteIndex).Provider);
                StartRoute(larger.RouteIndex, asker);
                break;
            case RetryDecision.NextRoute:
                Record(route, failure);
                Note(route, RoutingEvent.Fallback);
                StartRoute(_routeIndex + 1, asker);
                break;
            case RetryDecision.GiveUp giveUp:
                GiveUp(giveUp.Error, asker);
                break;
        }
    }

    // ---- resume (the stream itself is in ChatSessionActor.ClientStream.cs) -------------------------------------

    private void OnSegmentFailed(AnswerStream.SegmentFailed failed)
    {
        var asker = Sender;
        var failure = Classify(failed);
        var snapshot = failed.Transcript;
        Billed(snapshot.Billed, snapshot.FinishReason, snapshot.FirstTokenAt);
        // A replay that diverged is nobody's fault at the provider.
        if (failed.Cause is not ReplayDivergedException) Settle(failure, snapshot.SkippedEvents);
        if (!snapshot.HasContent)
        {
            // Nothing of the answer reached the client: a retry, not a resume (a role chunk it got is not repeated).
            _continuation = snapshot.ChunksForwarded > 0;
            AfterFailure(failure, asker);
            return;
        }

        Log.Warning("Request {RequestId}: stream from {Provider} broke after {Chunks} chunks ({Kind}): {Failure}",
            RequestId, CurrentRoute.Provider, snapshot.ChunksForwarded, failure.Kind, failure.Message);
        if (_resume is not null && snapshot.Text.Length <= _resume.Text.Length)
        {
            OnResumeStepFailed(failure, asker);   // a resume attempt failed before adding anything: try the next way
            return;
        }
        // A resume runs the engine's chat form of the request; one that needs its upstream's own state has none.
        var refusal = _command.Request.Native is { OnlyNative: not null }
            ? "the request needs state only its own dialect's upstream keeps"
            : ResumePlanner.Refusal(_model.Resume, snapshot);
        if (refusal is not null)
        {
            Log.Info("Request {RequestId}: not resuming: {Reason}", RequestId, refusal);
            _telemetry.Resume(null, "refused");
            GiveUp(FailureClassifier.StreamError(failure), asker);
            return;
        }
        _resume = ResumePlanner.Plan(_model.Routes, _current!.RouteIndex, failure, snapshot.Text);
        NextResumeStep(asker);
    }

    private void NextResumeStep(IActorRef asker)
    {
        if (_resume!.Next(_noPrefill, _settings.Providers) is not { } next)
        {
            // Every way failed: the client hears what cut its stream, not what the last resume attempt ran into.
            GiveUp(FailureClassifier.StreamError(_resume.CutBy), asker);
            return;
        }
        var step = new Step(next.RouteIndex, next.Strategy);
        if (!next.AfterBackoff)
        {
            Launch(step, asker);
            return;
        }
        var upstream = _settings.Providers[Route(next.RouteIndex).Provider].Upstream;
        WaitThenLaunch(step, RetryDelays.Next(0, upstream.RetryBaseDelay, upstream.RetryMaxDelay, _random), asker);
    }

    private void OnResumeStepFailed(UpstreamFailure failure, IActorRef asker)
    {
        var route = CurrentRoute;
        _telemetry.Resume(_current!.Strategy?.ToString().ToLowerInvariant(), "failed");
        if (_current!.Strategy == ResumeStrategy.Prefill && failure.IsCallerFault)
        {
            _noPrefill.Add((route.Provider, route.UpstreamModel));
            Context.Parent.Tell(new PrefillRefused(route.Provider, route.UpstreamModel));
            Log.Warning("Request {RequestId}: {Provider} ({Model}) refused prefill; not trying it there again", RequestId, route.Provider, route.UpstreamModel);
        }
        else
        {
            Log.Warning("Request {RequestId}: resume on {Provider} by {Strategy} failed ({Kind}): {Failure}",
                RequestId, route.Provider, _current.Strategy, failure.Kind, failure.Message);
        }
        NextResumeStep(asker);
    }

    private void Billed(UsageCounts billed, string? finishReason, long firstTokenAt)
    {
        _billed = billed;
        _finishReason = finishReason ?? _finishReason;
        if (firstTokenAt != 0) _firstTokenAt = firstTokenAt;
    }

    private void OnSegmentEnded(AnswerStream.Ended ended)
    {
        Billed(ended.Billed, ended.FinishReason, ended.FirstTokenAt);
        _status = ended.Whole ? 200 : ClientClosed;
        if (ended.Whole) Settle(null, ended.SkippedEvents);   // the answer is whole: the attempt that finished it succeeded
        else Log.Info("Request {RequestId}: the client stopped reading before the answer was whole", RequestId);
        Context.Stop(Self);
    }

    // ---- endings and bookkeeping -------------------------------------------------------------------------------

    private void TimedOut(IActorRef? asker)
    {
        LogExpired();
        Timers.Cancel(RetryTimer);
        GiveUp(TotalTimeoutError(), asker);
    }

    /// <summary>The stream is running: stopping its attempt fails the segment, and the answer to that is the timeout.</summary>
    private void ExpireStream()
    {
        LogExpired();
        _providers[CurrentRoute.Provider].Tell(new CancelAttempt(RequestId));
        Timers.StartSingleTimer(ExpiryGraceTimer, ExpiryGraceOver.Instance, ExpiryGrace);
        Become(Ending);
    }

    private void LogExpired() =>
        Log.Warning("Request {RequestId}: total-timeout ({Seconds}s) reached", RequestId, _model.Limits.TotalTimeout.TotalSeconds);

    /// <summary>The caller, or the client stream waiting (<paramref name="asker"/>), gets <paramref name="error"/>, and nothing is left to decide.</summary>
    private void GiveUp(ApiError error, IActorRef? asker)
    {
        if (error.Status >= 500) Log.Error("Request {RequestId}: {Status} for model {Model}: {Error}", RequestId, error.Status, _model.Id, error.Message);
        else Log.Info("Request {RequestId}: {Status} for model {Model}: {Error}", RequestId, error.Status, _model.Id, error.Message);
        _status = error.Status;
        _telemetry.Failed(error);
        if (asker is null)
        {
            _answered = true;
            _caller.Tell(new ChatRejected(RequestId, error));
        }
        else
        {
            asker.Tell(new AnswerStream.GiveUp(error));   // the stream ends with this error
        }
        Context.Stop(Self);
    }

    private ApiError Aggregate() => !_anyTried
        ? ApiError.NoProviderAvailable($"No provider is available for model '{_model.Id}': {string.Join("; ", _failures)}.")
        : SharedReason() ?? ApiError.UpstreamFailed($"Every route for model '{_model.Id}' failed: {string.Join("; ", _failures)}.");

    /// <summary>
    /// Every route tried failed for the same reason: the client hears that reason, so its SDK's retry logic can act on
    /// it (429 with the shortest Retry-After when all were rate limited; 529, Anthropic's overloaded_error, when all
    /// were overloaded), not a 502 that hides it.
    /// </summary>
    private ApiError? SharedReason()
    {
        if (_tried.Count == 0) return null;
        var detail = $"Every route for model '{_model.Id}' failed: {string.Join("; ", _failures)}.";
        if (_tried.All(f => f.Kind == FailureKind.RateLimited))
        {
            var wait = _tried.Where(f => f.RetryAfter is not null).Select(f => f.RetryAfter!.Value).DefaultIfEmpty(TimeSpan.FromSeconds(1)).Min();
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            return new ApiError(429, detail, "rate_limit_error", null, "rate_limit_exceeded")
            {
                Headers = [new("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            };
        }
        // Overloaded everywhere (Anthropic's 529): its SDKs back off on it; any other 5xx mix stays the 502 below.
        if (_tried.All(f => f.Kind == FailureKind.ServerError && f.Status == 529))
            return new ApiError(529, detail, "api_error", null, "overloaded");
        return null;
    }

    private ApiError TotalTimeoutError() =>
        new(504, $"The request did not finish within total-timeout ({_model.Limits.TotalTimeout.TotalSeconds:0.###}s).", "api_error", null, "timeout");

    private void Record(RouteSettings route, UpstreamFailure failure)
    {
        if (failure.Kind != FailureKind.Unavailable)
        {
            _anyTried = true;
            _tried.Add(failure);
        }
        else _refusedRoutes++;
        _failures.Add($"{Describe(route)}: {failure.Message}");
    }

    private void Settle(UpstreamFailure? failure, int skippedEvents = 0)
    {
        _providers[CurrentRoute.Provider].Tell(new AttemptSettled(RequestId, failure) { SkippedEvents = Math.Max(0, skippedEvents - _skippedSettled), Panic = _panic });
        _skippedSettled = Math.Max(_skippedSettled, skippedEvents);
    }

    private void Note(RouteSettings route, RoutingEvent routingEvent)
    {
        _providers[route.Provider].Tell(new RoutingNoted(RequestId, routingEvent));
        _telemetry.Noted(route.Provider, routingEvent);
    }

    private static string Describe(RouteSettings route) => $"{route.Provider} ({route.UpstreamModel})";

    private static bool SingleChoice(ChatRequest request) =>
        !request.Body.TryGetProperty("n", out var n) || n.ValueKind != System.Text.Json.JsonValueKind.Number || !n.TryGetInt32(out var count) || count <= 1;
}
