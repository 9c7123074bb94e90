using Akka.Actor;
using Akka.Configuration;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Ledger;
using Orchestrator.Tests.Ledger.Storage;

namespace Orchestrator.Tests.Ledger;

/// <summary>A clean stop of the actor system writes what the keys hold for their next group commit (SQLite, as run).</summary>
public sealed class LedgerShutdownTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task CleanStop_SettlementWaitingForItsGroup_InTheJournalAfterRestart()
    {
        using var database = new TempSqliteFile();
        // A window no stop waits out: only the shutdown's flush can write the settlement.
        var settings = new LedgerSettings(LedgerStorage.Sqlite, database.Path, null, 500) { GroupCommit = TimeSpan.FromHours(1) };
        SqliteDatabase.Prepare(settings.DatabaseFile);
        var key = LedgerKeys.Create();

        var first = Start(settings, out var ledger);
        Assert.IsType<KeyView>(await ledger.Ask<object>(new CreateKey(key.KeyId, "stop", key.SecretHash, 1m, null, KeyLimits.None, null), Timeout));
        Assert.IsType<Admitted>(await ledger.Ask<object>(new Reserve(key.KeyId, "r1", "m", 10, 0.1m), Timeout));
        ledger.Tell(new Settle(key.KeyId, new UsageRecord("r1", key.KeyId, "m", "p", 3, 0, 4, 0, 0.02m, 200, "stop", false,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null)));
        Assert.Equal(0.98m, Assert.IsType<KeyView>(await ledger.Ask<object>(new GetKey(key.KeyId), Timeout)).BalanceUsd);
        await CoordinatedShutdown.Get(first).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Timeout);

        var second = Start(settings, out ledger);
        try
        {
            var view = Assert.IsType<KeyView>(await ledger.Ask<object>(new GetKey(key.KeyId), Timeout));
            Assert.Equal(0.98m, view.BalanceUsd);
            Assert.Equal(1, view.Requests);
            Assert.Equal(0m, view.ReservedUsd);
        }
        finally
        {
            await second.Terminate().WaitAsync(Timeout);
        }
    }

    private static ActorSystem Start(LedgerSettings settings, out IActorRef ledger)
    {
        var system = ActorSystem.Create("ledger-stop", OrchestratorHosting.WithLedger(ConfigurationFactory.ParseString("akka.loglevel = WARNING"), settings));
        ledger = system.ActorOf(LedgerActor.Props(settings.Options, LedgerStores.Create(settings)), "ledger");
        return system;
    }
}
