using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// One per configured provider (<c>provider-NAME</c>). Owns the provider's client (and so its connection pool) and
/// supervises one <see cref="UpstreamRequestActor"/> per attempt: a request that fails or crashes touches no other.
/// Outcomes pass through here on their way to whoever asked, so a child that dies without reporting is noticed.
/// </summary>
public sealed class ProviderSupervisor : ReceiveActor
{
    private sealed class Attempt(IActorRef child, IActorRef replyTo)
    {
        public IActorRef Child { get; } = child;
        public IActorRef ReplyTo { get; } = replyTo;
        public bool Reported { get; set; }
    }

    private readonly ProviderSettings _settings;
    private readonly Func<ProviderSettings, IUpstreamClient> _clientFactory;
    private readonly Dictionary<string, Attempt> _attempts = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _requestIds = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IUpstreamClient _client = null!;
    private long _attemptCount;

    public ProviderSupervisor(ProviderSettings settings, Func<ProviderSettings, IUpstreamClient> clientFactory)
    {
        _settings = settings;
        _clientFactory = clientFactory;
        Receive<StartAttempt>(OnStartAttempt);
        Receive<CancelAttempt>(OnCancelAttempt);
        Receive<IAttemptOutcome>(OnOutcome);
        Receive<Terminated>(OnTerminated);
    }

    public static Props Props(ProviderSettings settings, Func<ProviderSettings, IUpstreamClient> clientFactory) =>
        Akka.Actor.Props.Create(() => new ProviderSupervisor(settings, clientFactory));

    /// <summary>A request is never restarted: a restart would send it upstream a second time.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        _client = _clientFactory(_settings);
        _log.Info("Provider {Provider} ({Kind}) ready", _settings.Name, _settings.Kind);
    }

    protected override void PostStop() => _client.Dispose();

    private void OnStartAttempt(StartAttempt start)
    {
        if (_attempts.ContainsKey(start.RequestId))
        {
            start.ReplyTo.Tell(new AttemptFailed(start.RequestId, _settings.Name, new UpstreamFailure(FailureKind.Internal, null, "duplicate request id")));
            return;
        }
        var child = Context.ActorOf(UpstreamRequestActor.Props(start, _client, _settings.Upstream), $"req-{++_attemptCount}");
        Context.Watch(child);
        _attempts[start.RequestId] = new Attempt(child, start.ReplyTo);
        _requestIds[child] = start.RequestId;
    }

    private void OnCancelAttempt(CancelAttempt cancel)
    {
        if (!_attempts.TryGetValue(cancel.RequestId, out var attempt)) return;
        attempt.Reported = true;   // the asker gave up: nobody waits for an outcome
        attempt.Child.Tell(cancel);
    }

    private void OnOutcome(IAttemptOutcome outcome)
    {
        if (!_attempts.TryGetValue(outcome.RequestId, out var attempt)) return;
        attempt.Reported = true;
        attempt.ReplyTo.Tell(outcome);
    }

    private void OnTerminated(Terminated terminated)
    {
        if (!_requestIds.Remove(terminated.ActorRef, out var requestId)) return;
        if (!_attempts.Remove(requestId, out var attempt) || attempt.Reported) return;
        _log.Error("Request {RequestId}: attempt on {Provider} stopped without an outcome", requestId, _settings.Name);
        attempt.ReplyTo.Tell(new AttemptFailed(requestId, _settings.Name, new UpstreamFailure(FailureKind.Internal, null, "the attempt stopped unexpectedly")));
    }
}
