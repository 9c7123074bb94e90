using Akka.Actor;
using Akka.Persistence;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>
/// A tiny event-sourced actor for the journal tests: persists <see cref="Added"/> events, snapshots its total on
/// request, and tells what it recovered.
/// </summary>
internal sealed class CounterActor : ReceivePersistentActor
{
    public sealed record Add(int Amount);
    public sealed record Added(int Amount);
    /// <summary>PersistAsync one event (as a settle would); with <paramref name="Reply"/> the sender hears once it is written.</summary>
    public sealed record AddAsync(int Amount, bool Reply);
    public sealed record TakeSnapshot;
    public sealed record GetState;
    public sealed record State(int Total, long LastSequenceNr, long? SnapshotSequenceNr, IReadOnlyList<int> Replayed);

    private readonly List<int> _replayed = [];
    private int _total;
    private long? _snapshotSequenceNr;
    private IActorRef? _snapshotRequester;

    public CounterActor(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<SnapshotOffer>(offer =>
        {
            _total = (int)offer.Snapshot;
            _snapshotSequenceNr = offer.Metadata.SequenceNr;
        });
        Recover<Added>(e =>
        {
            _total += e.Amount;
            _replayed.Add(e.Amount);
        });
        Command<Add>(c => Persist(new Added(c.Amount), e =>
        {
            _total += e.Amount;
            Sender.Tell(LastSequenceNr);
        }));
        Command<AddAsync>(c =>
        {
            var requester = Sender;
            PersistAsync(new Added(c.Amount), e =>
            {
                _total += e.Amount;
                if (c.Reply) requester.Tell(LastSequenceNr);
            });
        });
        Command<TakeSnapshot>(_ =>
        {
            _snapshotRequester = Sender;
            SaveSnapshot(_total);
        });
        Command<SaveSnapshotSuccess>(s => _snapshotRequester?.Tell(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _snapshotRequester?.Tell(new Status.Failure(f.Cause)));
        Command<GetState>(_ => Sender.Tell(new State(_total, LastSequenceNr, _snapshotSequenceNr, [.. _replayed])));
    }

    public override string PersistenceId { get; }

    public static Props Props(string persistenceId) => Akka.Actor.Props.Create(() => new CounterActor(persistenceId));
}
