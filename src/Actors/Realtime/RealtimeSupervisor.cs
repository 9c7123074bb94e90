using Akka.Actor;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Actors.Realtime;

/// <summary>
/// Parent of every <see cref="RealtimeConnectionActor"/> (<c>realtime</c>). A connection that crashes is stopped,
/// never restarted: a restart would keep the socket with every request on it forgotten. Its PostStop closes the
/// socket with 1011 and cancels what it had in flight.
/// </summary>
public sealed class RealtimeSupervisor : ReceiveActor
{
    private readonly RealtimeSettings _settings;
    private readonly IActorRef _front;

    public RealtimeSupervisor(RealtimeSettings settings, IActorRef front)
    {
        _settings = settings;
        _front = front;
        Receive<StartRealtimeConnection>(OnStart);
    }

    public static Props Props(RealtimeSettings settings, IActorRef front) =>
        Akka.Actor.Props.Create(() => new RealtimeSupervisor(settings, front));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private void OnStart(StartRealtimeConnection start)
    {
        var connection = Context.ActorOf(
            RealtimeConnectionActor.Props(_settings, _front, start.Outgoing, start.ConnectionId, start.Caller, start.KeyId),
            "realtime-" + Uri.EscapeDataString(start.ConnectionId));
        Sender.Tell(new RealtimeConnectionStarted(start.ConnectionId, connection));
    }
}
