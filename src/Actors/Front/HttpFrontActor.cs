using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Front;

/// <summary>
/// The engine's entry (<c>front</c>). The request path:
/// <code>
///   HTTP edge / embedding client ──Ask(CreateChat)──▶ HttpFrontActor ──StartAttempt──▶ ProviderSupervisor (provider-NAME)
///        ▲                                               │  ▲                                 │ creates, supervises
///        └────── ChatStreaming / ChatCompleted / ────────┘  └──── AttemptFailed/Streaming ── UpstreamRequestActor ──▶ upstream
///                ChatRejected                                      /Completed
/// </code>
/// Resolves the model to its routes and tries them in config order until one answers: a provider without a key is
/// skipped, a caller fault is returned as it is, anything else moves on to the next route. Once an answer streams,
/// the chunks go straight from the upstream to the consumer; nothing per chunk passes through an actor.
/// </summary>
public sealed class HttpFrontActor : ReceiveActor
{
    private sealed class PendingChat(CreateChat command, IActorRef caller, ModelSettings model)
    {
        public CreateChat Command { get; } = command;
        public IActorRef Caller { get; } = caller;
        public ModelSettings Model { get; } = model;
        public int NextRoute { get; set; }
        public RouteSettings? Current { get; set; }
        public List<string> Failures { get; } = [];
        public bool AnyTried => Current is not null;
    }

    private readonly OrchestratorSettings _settings;
    private readonly ModelCatalog _catalog;
    private readonly IReadOnlyDictionary<string, IActorRef> _providers;
    private readonly Dictionary<string, PendingChat> _pending = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public HttpFrontActor(OrchestratorSettings settings, IReadOnlyDictionary<string, IActorRef> providers)
    {
        _settings = settings;
        _catalog = new ModelCatalog(settings.Models);
        _providers = providers;
        Receive<CreateChat>(OnCreateChat);
        Receive<CancelChat>(OnCancelChat);
        Receive<AttemptFailed>(OnAttemptFailed);
        Receive<AttemptStreaming>(s => Settle(s.RequestId, p => new ChatStreaming(s.RequestId, s.Provider, s.Chunks)));
        Receive<AttemptCompleted>(c => Settle(c.RequestId, p => new ChatCompleted(c.RequestId, c.Provider, c.Completion)));
    }

    public static Props Props(OrchestratorSettings settings, IReadOnlyDictionary<string, IActorRef> providers) =>
        Akka.Actor.Props.Create(() => new HttpFrontActor(settings, providers));

    private void OnCreateChat(CreateChat command)
    {
        if (!_catalog.TryGet(command.Request.Model, out var model))
        {
            var closest = _catalog.Closest(command.Request.Model);
            Sender.Tell(new ChatRejected(command.RequestId, ApiError.ModelNotFound(
                $"The model '{command.Request.Model}' does not exist or is not configured here. Closest configured models: {string.Join(", ", closest)}.")));
            return;
        }
        if (_pending.ContainsKey(command.RequestId))
        {
            Sender.Tell(new ChatRejected(command.RequestId, ApiError.InvalidRequest($"Request id '{command.RequestId}' is already in flight.", null)));
            return;
        }
        var pending = new PendingChat(command, Sender, model);
        _pending[command.RequestId] = pending;
        TryNextRoute(pending);
    }

    private void OnCancelChat(CancelChat cancel)
    {
        if (!_pending.Remove(cancel.RequestId, out var pending) || pending.Current is null) return;
        _providers[pending.Current.Provider].Tell(new CancelAttempt(cancel.RequestId));
    }

    private void OnAttemptFailed(AttemptFailed failed)
    {
        if (!_pending.TryGetValue(failed.RequestId, out var pending)) return;
        var failure = failed.Failure;
        var route = pending.Current!;
        if (failure.IsCallerFault)
        {
            // Every provider would refuse this request: say why, in the provider's words, instead of trying the next.
            Reply(pending, new ChatRejected(failed.RequestId,
                new ApiError(failure.Status ?? 400, failure.Message, "invalid_request_error", failure.Param, failure.Code)));
            return;
        }
        _log.Warning("Request {RequestId}: {Provider} failed ({Kind}): {Failure}", failed.RequestId, failed.Provider, failure.Kind, failure.Message);
        pending.Failures.Add($"{Describe(route)}: {failure.Message}");
        TryNextRoute(pending);
    }

    private void TryNextRoute(PendingChat pending)
    {
        var routes = pending.Model.Routes;
        while (pending.NextRoute < routes.Length)
        {
            var route = routes[pending.NextRoute++];
            var provider = _settings.Providers[route.Provider];
            if (provider.UnavailableReason is { } reason)
            {
                pending.Failures.Add($"{Describe(route)}: skipped, {reason}");
                continue;
            }
            if (pending.AnyTried) _log.Info("Request {RequestId}: falling back to {Provider}", pending.Command.RequestId, route.Provider);
            pending.Current = route;
            _providers[route.Provider].Tell(new StartAttempt(
                pending.Command.RequestId, pending.Command.Request, new RouteTarget(route.Provider, route.UpstreamModel), Self));
            return;
        }

        var model = pending.Model.Id;
        var error = pending.AnyTried
            ? ApiError.UpstreamFailed($"Every route for model '{model}' failed: {string.Join("; ", pending.Failures)}.")
            : ApiError.NoProviderAvailable($"No provider is available for model '{model}': {string.Join("; ", pending.Failures)}.");
        _log.Error("Request {RequestId}: {Status} for model {Model}: {Failures}", pending.Command.RequestId, error.Status, model, error.Message);
        Reply(pending, new ChatRejected(pending.Command.RequestId, error));
    }

    private static string Describe(RouteSettings route) => $"{route.Provider} ({route.UpstreamModel})";

    private void Settle(string requestId, Func<PendingChat, IChatReply> reply)
    {
        if (!_pending.TryGetValue(requestId, out var pending)) return;
        Reply(pending, reply(pending));
    }

    private void Reply(PendingChat pending, IChatReply reply)
    {
        _pending.Remove(pending.Command.RequestId);
        pending.Caller.Tell(reply);
    }
}
