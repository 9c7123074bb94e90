using System.Collections.Immutable;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// One chat request, from the front's hand-off to the last chunk (<c>front/chat-N</c>). It owns every decision about
/// the request: which route next, whether to retry after a backoff, when to give up, and, once answer text has
/// reached the client, how to resume a broken stream. The client's stream is built here once and spliced from
/// attempts: each attempt's chunks run through an <see cref="AnswerSegment"/> stage; when one fails, the stream asks
/// this actor for the next (<see cref="SegmentFailed"/>) and carries on with what it gets, so the client sees one
/// answer with one id. Chunks never pass through this actor, only the few messages per attempt.
/// </summary>
public sealed class ChatSessionActor : ReceiveActor, IWithTimers
{
    private const string RetryTimer = "retry-backoff";
    private const string TotalTimer = "total-timeout";
    private const string OutcomeTimer = "attempt-outcome";

    /// <summary>Past first-byte-timeout plus this, an attempt that never reported (its connection died under it) is failed here.</summary>
    private static readonly TimeSpan OutcomeGrace = TimeSpan.FromSeconds(5);

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

    /// <summary>After total-timeout, how long a running stream has to take its error before the session stops regardless.</summary>
    private static readonly TimeSpan ExpiryGrace = TimeSpan.FromSeconds(5);

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
    private int _skippedSettled;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<string> _failures = [];
    private readonly Random _random = new();
    private DateTimeOffset _deadline;

    private int _routeIndex = -1;
    private int _retries;
    private int _attempts;
    private bool _freshRetryUsed;
    private bool _anyTried;
    private Step? _current;
    private bool _awaitingOutcome;
    private bool _streaming;
    private bool _continuation;
    private IActorRef? _asker;
    private bool _expired;
    private bool _answered;

    // Resume: the cycle in progress (text the client has, the failure that cut it, the steps left to try).
    private Queue<Step>? _resumePlan;
    private string _resumeText = "";
    private UpstreamFailure? _cutBy;
    private int _cutRoute;

    public ITimerScheduler Timers { get; set; } = null!;

    public ChatSessionActor(CreateChat command, IActorRef caller, ModelSettings model, OrchestratorSettings settings,
        IReadOnlyDictionary<string, IActorRef> providers, IEnumerable<(string Provider, string Model)> noPrefill)
    {
        _command = command;
        _caller = caller;
        _model = model;
        _settings = settings;
        _providers = providers;
        _noPrefill = [.. noPrefill];
        var singleChoice = SingleChoice(command.Request);
        _limits = new SegmentLimits(model.Limits.FirstTokenTimeout, model.Limits.IdleTimeout, command.Request.IncludeUsage, singleChoice);
        // Written only by the stream's stages; this actor hands it to them and reads snapshots. The text is kept
        // only when a resume could use it.
        _transcript = new Transcript(keepText: model.Resume.Enabled && model.Resume.MaxResumes > 0 && singleChoice);
        Receive<AttemptFailed>(OnAttemptFailed);
        Receive<AttemptStreaming>(OnAttemptStreaming);
        Receive<AttemptCompleted>(OnAttemptCompleted);
        Receive<AnswerStream.SegmentFailed>(OnSegmentFailed);
        Receive<AnswerStream.Ended>(OnSegmentEnded);
        Receive<RetryDue>(due => Launch(due.Step));
        Receive<TotalExpired>(_ => OnTotalExpired());
        Receive<CancelChat>(_ =>
        {
            _answered = true;   // the caller gave up: nobody to answer
            Context.Stop(Self);
        });
        Receive<ExpiryGraceOver>(_ => Context.Stop(Self));
        Receive<OutcomeOverdue>(overdue =>
        {
            if (!_awaitingOutcome || overdue.Attempt != _attempts - 1) return;
            var route = CurrentRoute;
            OnAttemptFailed(new AttemptFailed(RequestId, route.Provider,
                new UpstreamFailure(FailureKind.Timeout, null, "the attempt never reported back (its connection went away)")));
        });
    }

    public static Props Props(CreateChat command, IActorRef caller, ModelSettings model, OrchestratorSettings settings,
        IReadOnlyDictionary<string, IActorRef> providers, IEnumerable<(string Provider, string Model)> noPrefill) =>
        Akka.Actor.Props.Create(() => new ChatSessionActor(command, caller, model, settings, providers, noPrefill));

    private string RequestId => _command.RequestId;
    private RouteSettings Route(int index) => _model.Routes[index];
    private RouteSettings CurrentRoute => Route(_current!.RouteIndex);

    protected override void PreStart()
    {
        _deadline = Context.System.Scheduler.Now + _model.Limits.TotalTimeout;
        Timers.StartSingleTimer(TotalTimer, TotalExpired.Instance, _model.Limits.TotalTimeout);
        StartRoute(0);
    }

    protected override void PostStop()
    {
        // Stopped before answering (a bug of ours crashed it): the caller gets an answer instead of its timeout.
        if (!_answered) _caller.Tell(new ChatRejected(RequestId, ApiError.Internal("The request failed inside the relay.")));
        // Whatever is still open upstream for this request closes with it (a no-op when the attempt already ended).
        if (_current is not null) _providers[CurrentRoute.Provider].Tell(new CancelAttempt(RequestId));
    }

    // ---- attempts ----------------------------------------------------------------------------------------------

    private void Launch(Step step)
    {
        var route = Route(step.RouteIndex);
        var request = step.Strategy is { } strategy ? ResumeRequests.For(_command.Request, strategy, _resumeText) : _command.Request;
        _current = step;
        _awaitingOutcome = true;
        Timers.StartSingleTimer(OutcomeTimer, new OutcomeOverdue(_attempts), _model.Limits.FirstByteTimeout + OutcomeGrace);
        _providers[route.Provider].Tell(new StartAttempt(
            RequestId, request, new RouteTarget(route.Provider, route.UpstreamModel), _attempts++, _model.Limits.FirstByteTimeout, Self));
    }

    private void StartRoute(int from)
    {
        for (var i = from; i < _model.Routes.Length; i++)
        {
            var route = Route(i);
            if (_settings.Providers[route.Provider].UnavailableReason is { } reason)
            {
                _failures.Add($"{Describe(route)}: skipped, {reason}");
                continue;
            }
            if (_current is not null) _log.Info("Request {RequestId}: falling back to {Provider}", RequestId, route.Provider);
            _routeIndex = i;
            _retries = 0;
            Launch(new Step(i, null));
            return;
        }
        GiveUp(Aggregate());
    }

    private void NextRoute()
    {
        Note(CurrentRoute, RoutingEvent.Fallback);
        StartRoute(_routeIndex + 1);
    }

    /// <summary>True for the one outcome the current attempt has; a late or repeated one (of a cancelled attempt) is ignored.</summary>
    private bool TakeOutcome()
    {
        if (!_awaitingOutcome) return false;
        _awaitingOutcome = false;
        Timers.Cancel(OutcomeTimer);
        return true;
    }

    private void OnAttemptFailed(AttemptFailed failed)
    {
        if (!TakeOutcome()) return;
        Settle(failed.Failure);
        if (_current!.Strategy is not null) OnResumeAttemptFailed(failed.Failure);
        else OnFailure(failed.Failure);
    }

    private void OnAttemptStreaming(AttemptStreaming streaming)
    {
        if (!TakeOutcome()) return;
        // Not settled yet: headers are no proof of an answer. The segment's end (whole or cut) settles it.
        if (!_streaming)
        {
            _streaming = true;
            _answered = true;
            _caller.Tell(new ChatStreaming(RequestId, streaming.Provider,
                AnswerStream.Source(streaming.Body, _transcript, CurrentLimits(), Self, _model.Limits.TotalTimeout + TimeSpan.FromSeconds(5))));
            return;
        }
        var strategy = _current!.Strategy;
        if (strategy is not null)
        {
            Note(CurrentRoute, RoutingEvent.Resume);
            _log.Info("Request {RequestId}: resuming on {Provider} by {Strategy}", RequestId, streaming.Provider, strategy);
        }
        var plan = new SegmentPlan(_continuation || strategy is not null, strategy, strategy == ResumeStrategy.Replay ? _resumeText : null);
        if (_asker is null) streaming.Body.Dispose();   // nobody left to read it
        _asker?.Tell(new AnswerStream.NextSegment(streaming.Body, plan, CurrentLimits()));
        _asker = null;
    }

    private void OnAttemptCompleted(AttemptCompleted completed)
    {
        if (!TakeOutcome()) return;
        Settle(null);
        _answered = true;
        _caller.Tell(new ChatCompleted(RequestId, completed.Provider, completed.Body));
        _current = null;
        Context.Stop(Self);
    }

    /// <summary>Nothing of the answer reached the client yet: retry the route, move to the next, or give up.</summary>
    private void OnFailure(UpstreamFailure failure)
    {
        var route = CurrentRoute;
        _log.Warning("Request {RequestId}: {Provider} failed ({Kind}): {Failure}", RequestId, route.Provider, failure.Kind, failure.Message);
        if (_expired)
        {
            GiveUp(TotalTimeoutError());
            return;
        }
        if (failure.IsCallerFault)
        {
            if (failure.Code == "context_length_exceeded" && LargeContextRoute() is { } larger)
            {
                Record(route, failure);
                Note(route, RoutingEvent.Fallback);
                _log.Info("Request {RequestId}: too long for {Provider}, trying the large-context route {Larger}", RequestId, route.Provider, Route(larger).Provider);
                StartRoute(larger);
                return;
            }
            // Every provider would refuse this request: say why, in the provider's words.
            GiveUp(new ApiError(failure.Status ?? 400, failure.Message, "invalid_request_error", failure.Param, failure.Code));
            return;
        }
        if (failure.Kind == FailureKind.Transport && !_freshRetryUsed)
        {
            // Most often a pooled socket the peer had closed: once, at once, on a fresh connection, free of the budget.
            _freshRetryUsed = true;
            Launch(new Step(_routeIndex, null));
            return;
        }
        var upstream = _settings.Providers[route.Provider].Upstream;
        // A parked provider (a 429's Retry-After) is worth waiting for like the 429 itself, if the wait is short.
        var worthRetrying = failure.IsRetryable || failure is { Kind: FailureKind.Unavailable, RetryAfter: not null };
        if (worthRetrying && _retries < upstream.MaxRetries && RetryDelay(failure, upstream, _retries) is { } delay)
        {
            _retries++;
            Note(route, RoutingEvent.Retry);
            _log.Info("Request {RequestId}: retrying {Provider} in {DelayMs} ms (retry {Retry} of {MaxRetries})",
                RequestId, route.Provider, (int)delay.TotalMilliseconds, _retries, upstream.MaxRetries);
            Timers.StartSingleTimer(RetryTimer, new RetryDue(new Step(_routeIndex, null)), delay);
            return;
        }
        Record(route, failure);
        NextRoute();
    }

    /// <summary>Backoff with jitter, or the provider's Retry-After when longer; null when waiting is not worth it.</summary>
    private TimeSpan? RetryDelay(UpstreamFailure failure, UpstreamSettings upstream, int retry)
    {
        var delay = RetryDelays.Next(retry, upstream.RetryBaseDelay, upstream.RetryMaxDelay, _random);
        if (failure.RetryAfter is { } after)
        {
            if (after > upstream.RetryMaxDelay) return null;   // the provider wants a long pause: another route answers sooner
            if (after > delay) delay = after;
        }
        return Context.System.Scheduler.Now + delay < _deadline ? delay : null;
    }

    private int? LargeContextRoute()
    {
        for (var i = _routeIndex + 1; i < _model.Routes.Length; i++)
            if (Route(i).LargeContext) return i;
        return null;
    }

    // ---- the client stream and resume --------------------------------------------------------------------------

    /// <summary>
    /// The stream the client reads: the first attempt's chunks, then, whenever a segment fails, whatever this actor
    /// answers (a retry, a resume, or the error to end with).
    /// </summary>
    /// <summary>The limits a segment on the current route runs under (its provider's event size cap).</summary>
    private SegmentLimits CurrentLimits() => _limits with { MaxEventBytes = _settings.Providers[CurrentRoute.Provider].Upstream.MaxEventBytes };

    private void OnSegmentFailed(AnswerStream.SegmentFailed failed)
    {
        _asker = Sender;
        var diverged = failed.Cause is ReplayDivergedException;
        var failure = diverged ? new UpstreamFailure(FailureKind.Protocol, null, failed.Cause.Message) : FailureClassifier.FromException(failed.Cause);
        if (failure.Kind == FailureKind.Internal) _log.Error(failed.Cause, "Request {RequestId}: segment failed", RequestId);
        // Our own cancellation (total-timeout) and a replay that diverged are nobody's fault at the provider.
        var snapshot = failed.Transcript;
        if (!diverged && !_expired) Settle(failure, snapshot.SkippedEvents);
        if (!snapshot.HasContent)
        {
            // Nothing of the answer reached the client: a retry, not a resume (a role chunk it got is not repeated).
            _continuation = snapshot.ChunksForwarded > 0;
            if (_current!.Strategy is null) OnFailure(failure);
            else OnResumeAttemptFailed(failure);
            return;
        }

        _log.Warning("Request {RequestId}: stream from {Provider} broke after {Chunks} chunks ({Kind}): {Failure}",
            RequestId, CurrentRoute.Provider, snapshot.ChunksForwarded, failure.Kind, failure.Message);
        if (_expired)
        {
            GiveUp(TotalTimeoutError());
            return;
        }
        var newCut = _resumePlan is null || snapshot.Text.Length > _resumeText.Length;
        if (!newCut)
        {
            OnResumeAttemptFailed(failure);   // a resume attempt failed before adding anything: try the next way
            return;
        }
        _cutBy = failure;
        _cutRoute = _current!.RouteIndex;
        _resumeText = snapshot.Text;
        var refusal = !_model.Resume.Enabled ? "resume is off for this model"
            : snapshot.Resumes.Length >= _model.Resume.MaxResumes ? $"it was already resumed {snapshot.Resumes.Length} times (max-resumes)"
            : snapshot.HasToolCalls ? "a tool call was being streamed"
            : snapshot.MultipleChoices ? "it has several choices"
            : null;
        if (refusal is not null)
        {
            _log.Info("Request {RequestId}: not resuming: {Reason}", RequestId, refusal);
            GiveUp(FailureClassifier.StreamError(failure));
            return;
        }
        _resumePlan = ResumePlan();
        NextResumeStep();
    }

    /// <summary>Every other route first, in config order, then the route that broke (after a backoff), each with its strategies.</summary>
    private Queue<Step> ResumePlan()
    {
        var plan = new Queue<Step>();
        var count = _model.Routes.Length;
        for (var offset = 1; offset <= count; offset++)
        {
            var index = (_cutRoute + offset) % count;
            foreach (var strategy in Route(index).ResumeStrategies) plan.Enqueue(new Step(index, strategy));
        }
        return plan;
    }

    private void NextResumeStep()
    {
        if (_expired)
        {
            GiveUp(TotalTimeoutError());
            return;
        }
        while (_resumePlan!.TryDequeue(out var step))
        {
            var route = Route(step.RouteIndex);
            if (step.Strategy == ResumeStrategy.Prefill && _noPrefill.Contains((route.Provider, route.UpstreamModel))) continue;
            if (_settings.Providers[route.Provider].UnavailableReason is not null) continue;
            if (step.RouteIndex == _cutRoute)
            {
                var upstream = _settings.Providers[route.Provider].Upstream;
                var delay = RetryDelays.Next(0, upstream.RetryBaseDelay, upstream.RetryMaxDelay, _random);
                Timers.StartSingleTimer(RetryTimer, new RetryDue(step), delay);
                return;
            }
            Launch(step);
            return;
        }
        // Every way failed: the client hears what cut its stream, not what the last resume attempt ran into.
        GiveUp(FailureClassifier.StreamError(_cutBy!));
    }

    private void OnResumeAttemptFailed(UpstreamFailure failure)
    {
        var route = CurrentRoute;
        if (_current!.Strategy == ResumeStrategy.Prefill && failure.IsCallerFault)
        {
            _noPrefill.Add((route.Provider, route.UpstreamModel));
            Context.Parent.Tell(new PrefillRefused(route.Provider, route.UpstreamModel));
            _log.Warning("Request {RequestId}: {Provider} ({Model}) refused prefill; not trying it there again", RequestId, route.Provider, route.UpstreamModel);
        }
        else
        {
            _log.Warning("Request {RequestId}: resume on {Provider} by {Strategy} failed ({Kind}): {Failure}",
                RequestId, route.Provider, _current.Strategy, failure.Kind, failure.Message);
        }
        if (_resumePlan is null)
        {
            OnFailure(failure);
            return;
        }
        NextResumeStep();
    }

    private void OnSegmentEnded(AnswerStream.Ended ended)
    {
        if (ended.Whole && _current is not null) Settle(null, ended.SkippedEvents);   // the answer is whole: the attempt that finished it succeeded
        if (!ended.Whole) _log.Info("Request {RequestId}: the client stopped reading before the answer was whole", RequestId);
        Context.Stop(Self);
    }

    private void OnTotalExpired()
    {
        _expired = true;
        _log.Warning("Request {RequestId}: total-timeout ({Seconds}s) reached", RequestId, _model.Limits.TotalTimeout.TotalSeconds);
        Timers.Cancel(RetryTimer);
        if (!_streaming || _asker is not null)
        {
            GiveUp(TotalTimeoutError());
            return;
        }
        // The stream is running: stopping its attempt fails the segment, and the answer to that is the timeout.
        if (_current is not null) _providers[CurrentRoute.Provider].Tell(new CancelAttempt(RequestId));
        Timers.StartSingleTimer("expiry-grace", ExpiryGraceOver.Instance, ExpiryGrace);
    }

    // ---- endings and bookkeeping -------------------------------------------------------------------------------

    private void GiveUp(ApiError error)
    {
        _log.Error("Request {RequestId}: {Status} for model {Model}: {Error}", RequestId, error.Status, _model.Id, error.Message);
        if (!_streaming)
        {
            _answered = true;
            _caller.Tell(new ChatRejected(RequestId, error));
            Context.Stop(Self);
            return;
        }
        // The stream ends with this error, and nothing is left for this actor to decide.
        _asker?.Tell(new AnswerStream.GiveUp(error));
        _asker = null;
        Context.Stop(Self);
    }

    private ApiError Aggregate() => _anyTried
        ? ApiError.UpstreamFailed($"Every route for model '{_model.Id}' failed: {string.Join("; ", _failures)}.")
        : ApiError.NoProviderAvailable($"No provider is available for model '{_model.Id}': {string.Join("; ", _failures)}.");

    private ApiError TotalTimeoutError() =>
        new(504, $"The request did not finish within total-timeout ({_model.Limits.TotalTimeout.TotalSeconds:0.###}s).", "api_error", null, "timeout");

    private void Record(RouteSettings route, UpstreamFailure failure)
    {
        if (failure.Kind != FailureKind.Unavailable) _anyTried = true;
        _failures.Add($"{Describe(route)}: {failure.Message}");
    }

    private void Settle(UpstreamFailure? failure, int skippedEvents = 0)
    {
        _providers[CurrentRoute.Provider].Tell(new AttemptSettled(RequestId, failure) { SkippedEvents = Math.Max(0, skippedEvents - _skippedSettled) });
        _skippedSettled = Math.Max(_skippedSettled, skippedEvents);
    }

    private void Note(RouteSettings route, RoutingEvent routingEvent) =>
        _providers[route.Provider].Tell(new RoutingNoted(RequestId, routingEvent));

    private static string Describe(RouteSettings route) => $"{route.Provider} ({route.UpstreamModel})";

    private static bool SingleChoice(ChatRequest request) =>
        !request.Body.TryGetProperty("n", out var n) || n.ValueKind != System.Text.Json.JsonValueKind.Number || !n.TryGetInt32(out var count) || count <= 1;
}
