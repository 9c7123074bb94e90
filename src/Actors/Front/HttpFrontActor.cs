using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
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
    private long _sessionCount;

    public HttpFrontActor(OrchestratorSettings settings, IReadOnlyDictionary<string, IActorRef> providers)
    {
        _settings = settings;
        _catalog = new ModelCatalog(settings.Models);
        _providers = providers;
        Receive<CreateChat>(OnCreateChat);
        Receive<CancelChat>(cancel =>
        {
            if (_sessions.TryGetValue(cancel.RequestId, out var session)) session.Tell(cancel);
        });
        Receive<PrefillRefused>(refused => _noPrefill.Add((refused.Provider, refused.UpstreamModel)));
        Receive<GetProviderStatus>(_ => Context.ActorOf(ProviderStatusCollector.Props(_providers.Values, Sender, TimeSpan.FromSeconds(2))));
        Receive<Terminated>(OnTerminated);
    }

    public static Props Props(OrchestratorSettings settings, IReadOnlyDictionary<string, IActorRef> providers) =>
        Akka.Actor.Props.Create(() => new HttpFrontActor(settings, providers));

    /// <summary>A session that crashes is a bug: stop it (its stream ends) and touch no other request.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _log.Error(ex, "A request session crashed");
        return Directive.Stop;
    });

    private void OnCreateChat(CreateChat command)
    {
        if (!_catalog.TryGet(command.Request.Model, out var model))
        {
            var closest = _catalog.Closest(command.Request.Model);
            Sender.Tell(new ChatRejected(command.RequestId, ApiError.ModelNotFound(
                $"The model '{ApiError.Quote(command.Request.Model)}' does not exist or is not configured here. Closest configured models: {string.Join(", ", closest)}.")));
            return;
        }
        if (_sessions.ContainsKey(command.RequestId))
        {
            Sender.Tell(new ChatRejected(command.RequestId, ApiError.InvalidRequest($"Request id '{command.RequestId}' is already in flight.", null)));
            return;
        }
        var session = Context.ActorOf(ChatSessionActor.Props(command, Sender, model, _settings, _providers, [.. _noPrefill]), $"chat-{++_sessionCount}");
        Context.Watch(session);
        _sessions[command.RequestId] = session;
        _requestIds[session] = command.RequestId;
    }

    private void OnTerminated(Terminated terminated)
    {
        if (_requestIds.Remove(terminated.ActorRef, out var requestId)) _sessions.Remove(requestId);
    }
}
