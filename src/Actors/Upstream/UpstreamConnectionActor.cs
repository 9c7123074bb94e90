using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// One upstream connection (<c>conn-N</c> under its provider): an <see cref="IUpstreamClient"/> with its own socket
/// pool, whose HTTP/2 PINGs are the heartbeat. Its <c>max-lifetime</c> timer retires it: the provider opens a fresh
/// connection for new requests, and this one stops (closing its sockets) only once every stream on it has ended,
/// so rotation never cuts a stream. Supervises one <see cref="UpstreamRequestActor"/> per attempt; outcomes pass
/// through here, so an attempt that dies without reporting is still answered.
/// </summary>
public sealed class UpstreamConnectionActor : ReceiveActor, IWithTimers
{
    private const string LifetimeTimer = "max-lifetime";

    private sealed record LifetimeExpired
    {
        public static readonly LifetimeExpired Instance = new();
    }

    private sealed class Attempt(IActorRef child, IActorRef replyTo, string requestId)
    {
        public IActorRef Child { get; } = child;
        public IActorRef ReplyTo { get; } = replyTo;
        public string RequestId { get; } = requestId;
        public bool Reported { get; set; }
    }

    private readonly ProviderSettings _settings;
    private readonly IUpstreamClient _client;
    private readonly int _id;
    private readonly Dictionary<IActorRef, Attempt> _attempts = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _attemptCount;
    private bool _replaced;

    public ITimerScheduler Timers { get; set; } = null!;

    public UpstreamConnectionActor(ProviderSettings settings, IUpstreamClient client, int id)
    {
        _settings = settings;
        _client = client;
        _id = id;
        Receive<StartAttempt>(OnStartAttempt);
        Receive<CancelAttempt>(OnCancelAttempt);
        Receive<IAttemptOutcome>(OnOutcome);
        Receive<Terminated>(OnTerminated);
        Receive<LifetimeExpired>(_ => Retire());
        Receive<ConnectionReplaced>(_ =>
        {
            _replaced = true;
            if (_attempts.Count == 0) Context.Stop(Self);
        });
    }

    public static Props Props(ProviderSettings settings, IUpstreamClient client, int id) =>
        Akka.Actor.Props.Create(() => new UpstreamConnectionActor(settings, client, id));

    /// <summary>An attempt is never restarted: a restart would send the request upstream a second time.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        Timers.StartSingleTimer(LifetimeTimer, LifetimeExpired.Instance, _settings.Upstream.MaxLifetime);
        _log.Debug("Upstream {Provider} connection {ConnectionId} opened", _settings.Name, _id);
    }

    protected override void PostStop()
    {
        // Stopping with attempts still open (a crash, a shutdown): their askers must not wait for nothing.
        foreach (var attempt in _attempts.Values.Where(a => !a.Reported))
            attempt.ReplyTo.Tell(new AttemptFailed(attempt.RequestId, _settings.Name, new UpstreamFailure(FailureKind.Transport, null, "the upstream connection was closed")));
        // Their attempt actors stop with us and no Terminated will say so: the provider's in-flight count must not keep them.
        foreach (var attempt in _attempts.Values) Context.Parent.Tell(new AttemptClosed(attempt.RequestId));
        _client.Dispose();
        _log.Debug("Upstream {Provider} connection {ConnectionId} closed", _settings.Name, _id);
    }

    private void OnStartAttempt(StartAttempt start)
    {
        var child = Context.ActorOf(UpstreamRequestActor.Props(start, _client), $"req-{++_attemptCount}");
        Context.Watch(child);
        _attempts[child] = new Attempt(child, start.ReplyTo, start.RequestId);
    }

    private void OnCancelAttempt(CancelAttempt cancel)
    {
        foreach (var attempt in _attempts.Values.Where(a => a.RequestId == cancel.RequestId))
        {
            attempt.Reported = true;   // the asker gave up: nobody waits for an outcome
            attempt.Child.Tell(cancel);
        }
    }

    private void OnOutcome(IAttemptOutcome outcome)
    {
        if (!_attempts.TryGetValue(Sender, out var attempt)) return;
        attempt.Reported = true;
        attempt.ReplyTo.Tell(outcome);
    }

    private void OnTerminated(Terminated terminated)
    {
        if (!_attempts.Remove(terminated.ActorRef, out var attempt)) return;
        Context.Parent.Tell(new AttemptClosed(attempt.RequestId));
        if (!attempt.Reported)
        {
            _log.Error("Request {RequestId}: attempt on {Provider} stopped without an outcome", attempt.RequestId, _settings.Name);
            attempt.ReplyTo.Tell(new AttemptFailed(attempt.RequestId, _settings.Name, new UpstreamFailure(FailureKind.Internal, null, "the attempt stopped unexpectedly")));
        }
        if (_replaced && _attempts.Count == 0) Context.Stop(Self);
    }

    private void Retire()
    {
        _log.Info("Upstream {Provider} connection {ConnectionId} reached max-lifetime; rotating ({Streams} streams finish on it)", _settings.Name, _id, _attempts.Count);
        // Stopping waits for the provider's ConnectionReplaced, so an attempt it forwarded meanwhile is still served.
        Context.Parent.Tell(new ConnectionRetiring(_id));
    }
}
