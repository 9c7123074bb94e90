using System.Collections.Immutable;
using Akka.Actor;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Front;

/// <summary>
/// Answers one <see cref="GetProviderStatus"/> for all providers: asks each, collects what comes back within the
/// deadline, replies once and stops. A provider too busy to answer in time is left out rather than holding the reply.
/// </summary>
public sealed class ProviderStatusCollector : ReceiveActor, IWithTimers
{
    private sealed record DeadlinePassed
    {
        public static readonly DeadlinePassed Instance = new();
    }

    private readonly IActorRef _replyTo;
    private readonly List<IActorRef> _providers;
    private readonly TimeSpan _deadline;
    private readonly int _expected;
    private readonly List<ProviderStatus> _statuses = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public ProviderStatusCollector(IEnumerable<IActorRef> providers, IActorRef replyTo, TimeSpan deadline)
    {
        _replyTo = replyTo;
        _providers = providers.ToList();
        _expected = _providers.Count;
        _deadline = deadline;
        Receive<ProviderStatus>(status =>
        {
            _statuses.Add(status);
            if (_statuses.Count == _expected) Reply();
        });
        Receive<DeadlinePassed>(_ => Reply());
    }

    public static Props Props(IEnumerable<IActorRef> providers, IActorRef replyTo, TimeSpan deadline) =>
        Akka.Actor.Props.Create(() => new ProviderStatusCollector(providers, replyTo, deadline));

    protected override void PreStart()
    {
        if (_expected == 0)
        {
            Reply();
            return;
        }
        foreach (var provider in _providers) provider.Tell(GetProviderStatus.Instance);
        Timers.StartSingleTimer("deadline", DeadlinePassed.Instance, _deadline);
    }

    private void Reply()
    {
        _replyTo.Tell(new ProviderStatusReport([.. _statuses.OrderBy(s => s.Name, StringComparer.Ordinal)]));
        Context.Stop(Self);
    }
}
