using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Telemetry;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// One per configured provider (<c>provider-NAME</c>). Supervises its connections (<see cref="UpstreamConnectionActor"/>,
/// one current plus retiring ones still finishing streams) and keeps the provider's health: a circuit breaker fed by
/// every settled attempt and by active health checks, a park set by a 429's Retry-After, and the counters
/// <c>/v1/providers</c> shows. While the circuit is open or the provider parked, attempts are refused at once
/// (<see cref="FailureKind.Unavailable"/>) so routing moves on without waiting, except a panic attempt
/// (<see cref="StartAttempt.Panic"/>: every route of its model refused): that one goes through as a trial, and its
/// verdict is the breaker's like any other (a success closes the circuit and lifts a park).
/// </summary>
public sealed class ProviderSupervisor : ReceiveActor, IWithTimers
{
    private const string HealthCheckTimer = "health-check-interval";
    private const string ReconnectTimer = "reconnect";

    private sealed record HealthCheckTick
    {
        public static readonly HealthCheckTick Instance = new();
    }
    private sealed record HealthChecked(TimeSpan Latency, Exception? Error);
    private sealed record ReconnectDue
    {
        public static readonly ReconnectDue Instance = new();
    }

    private enum Circuit
    {
        Closed,
        Open,
        HalfOpen,
    }

    private readonly ProviderSettings _settings;
    private readonly Func<ProviderSettings, IUpstreamClient> _clientFactory;
    private readonly Dictionary<IActorRef, IUpstreamClient> _connections = [];
    private readonly Random _random = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _current;
    private int _connectionCount;
    private int _crashes;

    private Circuit _circuit = Circuit.Closed;
    private DateTimeOffset _openUntil;
    private DateTimeOffset _parkedUntil;
    private string? _trialRequest;
    private int _consecutiveFailures;
    private HealthCheckResult? _lastHealthCheck;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private int _inFlight;
    private long _requests, _failures, _retries, _fallbacks, _rotations, _resumes, _skippedEvents, _panics;

    public ITimerScheduler Timers { get; set; } = null!;

    public ProviderSupervisor(ProviderSettings settings, Func<ProviderSettings, IUpstreamClient> clientFactory)
    {
        _settings = settings;
        _clientFactory = clientFactory;
        Receive<StartAttempt>(OnStartAttempt);
        Receive<CancelAttempt>(cancel =>
        {
            foreach (var connection in _connections.Keys) connection.Forward(cancel);
        });
        Receive<AttemptSettled>(OnAttemptSettled);
        Receive<AttemptClosed>(closed =>
        {
            _inFlight--;
            // A trial that ended without a verdict (a caller fault, a cancel) decides nothing: the next request tries.
            if (closed.RequestId == _trialRequest) _trialRequest = null;
        });
        Receive<RoutingNoted>(OnRoutingNoted);
        Receive<ConnectionRetiring>(OnConnectionRetiring);
        Receive<Terminated>(OnTerminated);
        Receive<ReconnectDue>(_ => _current ??= OpenConnection());
        Receive<HealthCheckTick>(_ => CheckHealth());
        Receive<HealthChecked>(OnHealthChecked);
        Receive<GetProviderStatus>(_ => Sender.Tell(Status()));
    }

    public static Props Props(ProviderSettings settings, Func<ProviderSettings, IUpstreamClient> clientFactory) =>
        Akka.Actor.Props.Create(() => new ProviderSupervisor(settings, clientFactory));

    /// <summary>
    /// A connection that crashes is stopped, not restarted in place: <see cref="OnTerminated"/> opens its replacement
    /// after a backoff (doubling per crash in a row, with jitter), and streams on other connections are untouched.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private UpstreamSettings Upstream => _settings.Upstream;
    private DateTimeOffset Now => Context.System.Scheduler.Now;

    protected override void PreStart()
    {
        _current = OpenConnection();
        OrchestratorMetrics.SetCircuitState(_settings.Name, CircuitStateValue.Closed);
        if (Upstream.HealthCheckInterval is { } interval)
            Timers.StartPeriodicTimer(HealthCheckTimer, HealthCheckTick.Instance, TimeSpan.FromMilliseconds(Math.Min(1000, interval.TotalMilliseconds)), interval);
        _log.Info("Provider {Provider} ({Kind}) ready", _settings.Name, _settings.Kind);
    }

    private IActorRef OpenConnection()
    {
        var client = _clientFactory(_settings);
        var id = ++_connectionCount;
        var connection = Context.ActorOf(UpstreamConnectionActor.Props(_settings, client, id), $"conn-{id}");
        Context.Watch(connection);
        _connections[connection] = client;
        return connection;
    }

    private void OnStartAttempt(StartAttempt start)
    {
        var refusal = Refusal();
        if (refusal is not null && !start.Panic)
        {
            start.ReplyTo.Tell(new AttemptFailed(start.RequestId, _settings.Name, refusal));
            return;
        }
        if (_current is null)
        {
            start.ReplyTo.Tell(new AttemptFailed(start.RequestId, _settings.Name,
                new UpstreamFailure(FailureKind.Unavailable, null, "the upstream connection is being replaced after a crash") { RetryAfter = Upstream.RetryBaseDelay }));
            return;
        }
        if (refusal is not null)
        {
            // No trial slot is taken: the breaker's own half-open trial still runs when reset-timeout is over.
            _panics++;
            _log.Debug("Provider {Provider}: request {RequestId} admitted in panic mode ({Refusal})", _settings.Name, start.RequestId, refusal.Message);
        }
        else if (_circuit == Circuit.HalfOpen)
        {
            _trialRequest = start.RequestId;
            _log.Info("Provider {Provider}: circuit half-open, request {RequestId} is the trial", _settings.Name, start.RequestId);
        }
        _requests++;
        _inFlight++;
        _current.Forward(start);
    }

    /// <summary>Why this provider takes no request right now, or null when it does.</summary>
    private UpstreamFailure? Refusal()
    {
        var now = Now;
        if (_parkedUntil > now)
            return new UpstreamFailure(FailureKind.Unavailable, null, $"rate limited: parked until {_parkedUntil:HH:mm:ss}Z") { RetryAfter = _parkedUntil - now };
        switch (_circuit)
        {
            case Circuit.Open when now < _openUntil:
                return new UpstreamFailure(FailureKind.Unavailable, null, $"circuit open until {_openUntil:HH:mm:ss}Z after {_consecutiveFailures} failures in a row");
            case Circuit.Open:
                _circuit = Circuit.HalfOpen;   // reset-timeout is over: the next request is the trial
                OrchestratorMetrics.SetCircuitState(_settings.Name, CircuitStateValue.HalfOpen);
                return null;
            case Circuit.HalfOpen when _trialRequest is not null:
                return new UpstreamFailure(FailureKind.Unavailable, null, "circuit half-open: a trial request is in flight");
            default:
                return null;
        }
    }

    private void OnAttemptSettled(AttemptSettled settled)
    {
        _skippedEvents += settled.SkippedEvents;
        OrchestratorMetrics.CountSkippedEvents(_settings.Name, settled.SkippedEvents);
        if (settled.Failure is not { } failure)
        {
            if (settled.Panic && _parkedUntil > Now)
            {
                _parkedUntil = default;   // it took a new request: the rate limit is over
                _log.Info("Provider {Provider}: a panic trial succeeded, park lifted", _settings.Name);
            }
            Succeeded();
            return;
        }
        if (!failure.IsProviderFault) return;
        _failures++;
        _lastError = failure.Message;
        _lastErrorAt = Now;
        if (failure is { Kind: FailureKind.RateLimited, RetryAfter: { } after } && after > TimeSpan.Zero)
        {
            _parkedUntil = Now + after;
            _log.Warning("Provider {Provider}: 429, parked for {Seconds}s", _settings.Name, after.TotalSeconds);
        }
        Failed(failure.Message);
    }

    private void Succeeded()
    {
        _consecutiveFailures = 0;
        _crashes = 0;
        if (_circuit == Circuit.Closed) return;
        _circuit = Circuit.Closed;
        _trialRequest = null;
        OrchestratorMetrics.SetCircuitState(_settings.Name, CircuitStateValue.Closed);
        _log.Info("Provider {Provider}: circuit closed", _settings.Name);
    }

    private void Failed(string reason)
    {
        _consecutiveFailures++;
        if (_circuit == Circuit.HalfOpen || (_circuit == Circuit.Closed && _consecutiveFailures >= Upstream.Breaker.MaxFailures))
            Open(reason);
    }

    private void Open(string reason)
    {
        _circuit = Circuit.Open;
        _trialRequest = null;
        _openUntil = Now + Upstream.Breaker.ResetTimeout;
        OrchestratorMetrics.SetCircuitState(_settings.Name, CircuitStateValue.Open);
        _log.Warning("Provider {Provider}: circuit open for {Seconds}s after {Failures} failures in a row (last: {Reason})",
            _settings.Name, Upstream.Breaker.ResetTimeout.TotalSeconds, _consecutiveFailures, reason);
    }

    private void OnRoutingNoted(RoutingNoted noted)
    {
        switch (noted.Event)
        {
            case RoutingEvent.Retry:
                _retries++;
                OrchestratorMetrics.CountRetry(_settings.Name);
                break;
            case RoutingEvent.Fallback:
                _fallbacks++;
                OrchestratorMetrics.CountFallback(_settings.Name);
                break;
            case RoutingEvent.Resume: _resumes++; break;
        }
    }

    private void OnConnectionRetiring(ConnectionRetiring retiring)
    {
        // Sent after every attempt already forwarded to it: once it has this, nothing more can arrive.
        Sender.Tell(ConnectionReplaced.Instance);
        if (!Sender.Equals(_current)) return;
        _rotations++;
        OrchestratorMetrics.CountRotation(_settings.Name);
        _current = OpenConnection();
        _log.Info("Provider {Provider}: connection {Old} rotated, new requests go to connection {New}", _settings.Name, retiring.ConnectionId, _connectionCount);
    }

    private void OnTerminated(Terminated terminated)
    {
        if (!_connections.Remove(terminated.ActorRef)) return;
        if (!terminated.ActorRef.Equals(_current)) return;   // a retired connection whose streams all ended
        _current = null;
        var delay = Routing.RetryDelays.Next(_crashes++, Upstream.RetryBaseDelay, Upstream.RetryMaxDelay, _random);
        _log.Error("Provider {Provider}: connection crashed; reconnecting in {DelayMs} ms", _settings.Name, (int)delay.TotalMilliseconds);
        Timers.StartSingleTimer(ReconnectTimer, ReconnectDue.Instance, delay);
    }

    private void CheckHealth()
    {
        if (_current is null || !_connections.TryGetValue(_current, out var client)) return;
        var started = Stopwatch.GetTimestamp();
        client.ProbeAsync(Upstream.HealthCheckTimeout).PipeTo(Self,
            success: () => new HealthChecked(Stopwatch.GetElapsedTime(started), null),
            failure: ex => new HealthChecked(Stopwatch.GetElapsedTime(started), ex));
    }

    private void OnHealthChecked(HealthChecked checkedResult)
    {
        var failure = checkedResult.Error is { } ex ? FailureClassifier.FromException(ex) : null;
        var error = failure?.Message;
        _lastHealthCheck = new HealthCheckResult(Now, error is null, Math.Round(checkedResult.Latency.TotalMilliseconds, 2), error);
        OrchestratorMetrics.RecordHealthCheck(_settings.Name, checkedResult.Latency, error is null);
        if (error is null)
        {
            // A provider that answers its health check again is given traffic again at once.
            if (_circuit != Circuit.Closed) Succeeded();
            return;
        }
        _log.Warning("Provider {Provider}: health check failed: {Error}", _settings.Name, error);
        if (!failure!.IsProviderFault) return;   // our own trouble (a client disposed mid-rotation) says nothing of the provider
        _lastError = $"health check: {error}";
        _lastErrorAt = Now;
        Failed(_lastError);
    }

    private ProviderStatus Status()
    {
        var now = Now;
        // Routing skips a provider without a key: it is not healthy, whatever else is true of it.
        var (state, until) = _settings.UnavailableReason is not null ? ("no key", (DateTimeOffset?)null)
            : _parkedUntil > now ? ("parked", (DateTimeOffset?)_parkedUntil)
            : _circuit == Circuit.Open && now < _openUntil ? ("open", _openUntil)
            : _circuit != Circuit.Closed ? ("half-open", null)
            : _consecutiveFailures > 0 || _lastHealthCheck is { Ok: false } ? ("degraded", null)
            : ("healthy", null);
        return new ProviderStatus(
            _settings.Name,
            _settings.Kind.ToString().ToLowerInvariant(),
            state,
            until,
            _consecutiveFailures,
            _lastHealthCheck,
            _lastError ?? _settings.UnavailableReason,
            _lastErrorAt,
            _connections.Values.Sum(c => c.Meters.OpenConnections),
            _inFlight,
            new ProviderCounters(_requests, _failures, _retries, _fallbacks, _rotations, _resumes, _skippedEvents, _panics));
    }
}
