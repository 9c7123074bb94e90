using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>
/// The journal and snapshot store that <see cref="LedgerPersistence.Config"/> configures, through a real actor
/// system: what one system persists, a second system started on the same database recovers.
/// </summary>
public abstract class LedgerPersistenceContract(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Settings for an empty database, ready for a journal (the host's preparation done).</summary>
    protected abstract Task<LedgerSettings> NewDatabaseAsync();

    private static ActorSystem StartSystem(LedgerSettings settings) =>
        ActorSystem.Create("ledger-test", LedgerPersistence.Config(settings).WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING")));

    [SkippableFact]
    public async Task Journal_NewSystemOnTheSameDatabase_RecoversSnapshotAndLaterEvents()
    {
        var settings = await NewDatabaseAsync();

        var first = StartSystem(settings);
        try
        {
            var counter = first.ActorOf(CounterActor.Props("key_1"));
            for (var amount = 1; amount <= 5; amount++) await counter.Ask<long>(new CounterActor.Add(amount), Timeout);
            Assert.Equal(5L, await counter.Ask<long>(new CounterActor.TakeSnapshot(), Timeout));
            Assert.Equal(6L, await counter.Ask<long>(new CounterActor.Add(6), Timeout));
            Assert.Equal(7L, await counter.Ask<long>(new CounterActor.Add(7), Timeout));
            Assert.Equal(1L, await first.ActorOf(CounterActor.Props("key_2")).Ask<long>(new CounterActor.Add(100), Timeout));
        }
        finally
        {
            await first.Terminate();
        }

        var second = StartSystem(settings);
        try
        {
            var state = await second.ActorOf(CounterActor.Props("key_1")).Ask<CounterActor.State>(new CounterActor.GetState(), Timeout);
            // Recovery offered the snapshot taken at 5 (1+..+5) and replayed only the events after it.
            Assert.Equal((28, 7L, (long?)5L), (state.Total, state.LastSequenceNr, state.SnapshotSequenceNr));
            Assert.Equal([6, 7], state.Replayed);
            var other = await second.ActorOf(CounterActor.Props("key_2")).Ask<CounterActor.State>(new CounterActor.GetState(), Timeout);
            Assert.Equal((100, 1L, (long?)null), (other.Total, other.LastSequenceNr, other.SnapshotSequenceNr));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [SkippableFact]
    public async Task Journal_ThousandPersistAsyncEvents_AllRecoveredAndMeasured()
    {
        var settings = await NewDatabaseAsync();
        const int events = 1000;

        var first = StartSystem(settings);
        double elapsedMs;
        try
        {
            var counter = first.ActorOf(CounterActor.Props("bulk"));
            await counter.Ask<long>(new CounterActor.Add(0), Timeout);   // the journal and its tables are up
            var clock = Stopwatch.StartNew();
            // One message and one PersistAsync per event, as settles arrive: the journal batches the writes.
            for (var i = 1; i < events; i++) counter.Tell(new CounterActor.AddAsync(1, Reply: false));
            Assert.Equal(events + 1L, await counter.Ask<long>(new CounterActor.AddAsync(1, Reply: true), Timeout));
            elapsedMs = clock.Elapsed.TotalMilliseconds;
        }
        finally
        {
            await first.Terminate();
        }

        var second = StartSystem(settings);
        try
        {
            var clock = Stopwatch.StartNew();
            var state = await second.ActorOf(CounterActor.Props("bulk")).Ask<CounterActor.State>(new CounterActor.GetState(), Timeout);
            output.WriteLine($"{GetType().Name}: PersistAsync of {events} events in one actor: {elapsedMs:F0} ms " +
                             $"({events / elapsedMs * 1000:F0} events/s); recovery of {events + 1} events: {clock.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal((events, events + 1L), (state.Total, state.LastSequenceNr));
        }
        finally
        {
            await second.Terminate();
        }
    }
}
