using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Front;

/// <summary>
/// The engine's entry (<c>front</c>). The request path:
/// <code>
///   HTTP edge / embedding ──Ask(CreateChat)──▶ HttpFrontActor ──creates──▶ ChatSessionActor (chat-N, one per request)
///        ▲                                                                  │ StartAttempt            ▲ AttemptFailed/Streaming/Completed
///        └──── ChatStreaming / ChatCompleted / ChatRejected ────────────────┘                         │
///                                                      ProviderSupervisor (provider-NAME) ──▶ UpstreamConnectionActor (conn-N)
///                                                      breaker, health, counters              └──▶ UpstreamRequestActor (req-N) ──▶ upstream
/// </code>
/// Resolves the model and hands the request to a session of its own, which owns every routing decision. Keeps what
/// outlives one request: which routes refused an assistant prefill. Once an answer streams, chunks go from the
/// upstream to the consumer without passing through any actor.
/// </summary>
public sealed class HttpFrontActor : ReceiveActor
{
    private readonly OrchestratorSettings _settings;
    private readonly ModelCatalog _catalog;
    private readonly IReadOnlyDictionary<string, IActorRef> _providers;
    private readonly Dictionary<string, IActorRef> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _requestIds = [];
    private readonly HashSet<(string Provider, string Model)> _noPrefill = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef? _ledger;
    private readonly Dictionary<string, Admission> _admitting = new(StringComparer.Ordinal);
    // Key actors that have answered an admission (a reply's sender), watched: the next Reserve on that key goes to it
    // straight, one mailbox fewer than through the ledger. One that stops is forgotten and what waited on it is asked
    // again through the ledger.
    private readonly Dictionary<string, IActorRef> _keyActors = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _keyIds = [];
    private long _sessionCount;

    /// <summary>
    /// A billed request waiting for its key's answer (<see cref="Reserve"/>, kept to ask again if the key's actor stops).
    /// <see cref="Model"/> is null for a model the catalogue does not hold: the key only refuses it (<see cref="Reserve.UnknownModel"/>).
    /// </summary>
    private sealed record Admission(CreateChat Command, IActorRef Caller, ModelSettings? Model, DateTimeOffset StartedAt, Reserve Reserve)
    {
        public bool Cancelled { get; init; }
    }

    public HttpFrontActor(OrchestratorSettings settings, IReadOnlyDictionary<string, IActorRef> providers, IActorRef? ledger = null)
    {
        _settings = settings;
        _catalog = new ModelCatalog(settings.Resolver);
        _providers = providers;
        _ledger = ledger;
        Receive<CreateChat>(OnCreateChat);
        Receive<Admitted>(OnAdmitted);
        Receive<NotAdmitted>(refused =>
        {
            if (!_admitting.Remove(refused.RequestId, out var admission)) return;
            Remember(admission.Reserve.KeyId, Sender);
            admission.Caller.Tell(new ChatRejected(refused.RequestId, refused.Error));
        });
        Receive<CancelChat>(cancel =>
        {
            if (_sessions.TryGetValue(cancel.RequestId, out var session)) session.Tell(cancel);
            else if (_admitting.TryGetValue(cancel.RequestId, out var admission)) _admitting[cancel.RequestId] = admission with { Cancelled = true };
        });
        Receive<PrefillRefused>(refused => _noPrefill.Add((refused.Provider, refused.UpstreamModel)));
        Receive<GetProviderStatus>(_ => Context.ActorOf(ProviderStatusCollector.Props(_providers.Values, Sender, TimeSpan.FromSeconds(2))));
        Receive<Terminated>(OnTerminated);
    }

    public static Props Props(OrchestratorSettings settings, IReadOnlyDictionary<string, IActorRef> providers, IActorRef? ledger = null) =>
        Akka.Actor.Props.Create(() => new HttpFrontActor(settings, providers, ledger));

    /// <summary>A session that crashes is a bug: stop it (its stream ends) and touch no other request.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _log.Error(ex, "A request session crashed");
        return Directive.Stop;
    });

    private void OnCreateChat(CreateChat command)
    {
        if (_sessions.ContainsKey(command.RequestId) || _admitting.ContainsKey(command.RequestId))
        {
            Sender.Tell(new ChatRejected(command.RequestId, ApiError.InvalidRequest($"Request id '{command.RequestId}' is already in flight.", null)));
            return;
        }
        if (!_catalog.TryGet(command.Request.Model, out var model))
        {
            var closest = _catalog.Closest(command.Request.Model);
            // A billed key answers it: to a key with an allow-list, only its own models exist.
            if (command.KeyId is { } billed && _ledger is not null) SendReserve(new Admission(command, Sender, null, DateTimeOffset.UtcNow,
                new Reserve(billed, command.RequestId, command.Request.Model, 0, 0m) { UnknownModel = closest }));
            else Sender.Tell(new ChatRejected(command.RequestId, ModelCatalog.NotFound(command.Request.Model, closest)));
            return;
        }
        if (command.KeyId is { } keyId && _ledger is not null)
        {
            if (Unpriced(model) is { } unpriced)
            {
                Sender.Tell(new ChatRejected(command.RequestId, unpriced));
                return;
            }
            Admit(command, keyId, model);
            return;
        }
        StartSession(command, Sender, model, null);
    }

    /// <summary>
    /// An id a pattern serves with no price anywhere (its entry sets none, the catalogue has neither it nor its family)
    /// is not billed $0: a billed key is refused, and told why. While only the demo simulator answers it, it is free.
    /// </summary>
    private static ApiError? Unpriced(ModelSettings model) =>
        model is { PriceSource: PriceSource.None, Pattern: { } pattern } && !model.Routes.Any(r => r.Demo)
            ? new ApiError(403, $"The model '{ApiError.Quote(model.Id)}' (served by '{pattern}') has no price here, so it cannot be billed to this key; " +
                "the operator sets one in its models entry or in orchestrator.catalogue.", "invalid_request_error", "model", "model_not_priced")
            : null;

    /// <summary>
    /// A billed request first reserves its most possible cost on its key (one message; the key answers from memory):
    /// its prompt, estimated, and its output limit, at the model's prices.
    /// </summary>
    private void Admit(CreateChat command, string keyId, ModelSettings model)
    {
        var request = command.Request;
        if (request.Stream && !request.IncludeUsage) request = request with { IncludeUsage = true, UsageForBilling = true };
        var input = Dialects.TokenEstimate.Input(request.Body);
        var output = (long)(request.MaxTokens ?? model.MaxTokensDefault) * Math.Max(1, request.Choices);
        var reserve = new Reserve(keyId, command.RequestId, model.Id, input + output, Pricing.Reservation(model.Price, input, output));
        SendReserve(new Admission(command with { Request = request }, Sender, model, DateTimeOffset.UtcNow, reserve));
    }

    /// <summary>To the key's actor once it has answered one, else through the ledger.</summary>
    private void SendReserve(Admission admission)
    {
        _admitting[admission.Reserve.RequestId] = admission;
        var keyId = admission.Reserve.KeyId;
        (_keyActors.TryGetValue(keyId, out var key) ? key : _ledger!).Tell(admission.Reserve);
    }

    /// <summary>The key's actor answered an admission (the ledger itself answers only for keys it does not know).</summary>
    private void Remember(string keyId, IActorRef replied)
    {
        if (replied.Equals(_ledger) || replied.IsNobody() || _keyActors.ContainsKey(keyId)) return;
        _keyActors[keyId] = replied;
        _keyIds[replied] = keyId;
        Context.Watch(replied);
    }

    private void OnAdmitted(Admitted admitted)
    {
        if (!_admitting.Remove(admitted.RequestId, out var admission)) return;
        var keyId = admission.Command.KeyId!;
        Remember(keyId, Sender);
        if (admission.Model is not { } model) return;   // never admitted (UnknownModel); nothing reserved
        var bill = new BillTo(_ledger!, keyId, model.Price, admission.StartedAt) { Headers = admitted.Headers };
        if (admission.Cancelled)
        {
            // The caller left while the key decided: nothing ran, nothing is owed, the reservation ends.
            bill.Settle(admitted.RequestId, model.Id, "", default, ChatSessionActor.ClientClosed, null, null);
            return;
        }
        StartSession(admission.Command, admission.Caller, model, bill);
    }

    private void StartSession(CreateChat command, IActorRef caller, ModelSettings model, BillTo? bill)
    {
        var session = Context.ActorOf(ChatSessionActor.Props(command, caller, model, _settings, _providers, [.. _noPrefill], bill), $"chat-{++_sessionCount}");
        Context.Watch(session);
        _sessions[command.RequestId] = session;
        _requestIds[session] = command.RequestId;
    }

    private void OnTerminated(Terminated terminated)
    {
        if (_requestIds.Remove(terminated.ActorRef, out var requestId))
        {
            _sessions.Remove(requestId);
            return;
        }
        if (!_keyIds.Remove(terminated.ActorRef, out var keyId)) return;
        _keyActors.Remove(keyId);
        // What was sent to it may have died with it: asked again through the ledger, which starts the key anew. A
        // request the old actor did admit is refused there as already in flight only while that reservation lives.
        foreach (var admission in _admitting.Values.Where(a => a.Reserve.KeyId == keyId).ToList()) _ledger!.Tell(admission.Reserve);
    }
}
