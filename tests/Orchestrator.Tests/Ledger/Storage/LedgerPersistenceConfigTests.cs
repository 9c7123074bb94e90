using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Ledger.Storage;

public sealed class LedgerPersistenceConfigTests
{
    [Fact]
    public async Task Host_SqliteLedger_ActorSystemGetsTheSqlJournalOnThatFile()
    {
        using var file = new TempSqliteFile();
        var config = HoconLoader.Load(TestSettings.DefaultsText, $"orchestrator.ledger.path = {HoconLoader.Quote(file.Path)}");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOrchestrator(config, OrchestratorSettings.FromConfig(config));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var akka = host.Services.GetRequiredService<ActorSystem>().Settings.Config;

            Assert.True(File.Exists(file.Path));   // created before the journal needs it
            Assert.Equal(LedgerPersistence.JournalPluginId, akka.GetString("akka.persistence.journal.plugin"));
            Assert.Equal(LedgerPersistence.SnapshotPluginId, akka.GetString("akka.persistence.snapshot-store.plugin"));
            foreach (var plugin in new[] { LedgerPersistence.JournalPluginId, LedgerPersistence.SnapshotPluginId, LedgerPersistence.QueryPluginId })
            {
                Assert.Equal("SQLite.MS", akka.GetString(plugin + ".provider-name"));
                Assert.Contains(file.Path, akka.GetString(plugin + ".connection-string"));
            }
            Assert.True(akka.GetBoolean(LedgerPersistence.JournalPluginId + ".auto-initialize"));
            Assert.Equal(300, akka.GetTimeSpan("akka.actor.ask-timeout").TotalSeconds);   // the rest of the config is still there
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task MemoryLedger_PersistsWithinTheSystem()
    {
        var settings = new LedgerSettings(LedgerStorage.Memory, "unused.db", null, 500);
        var system = ActorSystem.Create("ledger-memory", LedgerPersistence.Config(settings));
        try
        {
            Assert.Equal("akka.persistence.journal.inmem", system.Settings.Config.GetString("akka.persistence.journal.plugin"));
            var counter = system.ActorOf(CounterActor.Props("key_1"));
            Assert.Equal(1L, await counter.Ask<long>(new CounterActor.Add(2), TimeSpan.FromSeconds(10)));
            Assert.Equal(1L, await counter.Ask<long>(new CounterActor.TakeSnapshot(), TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void PostgresqlLedger_ConnectionStringWithQuotesAndBackslashes_SurvivesHocon()
    {
        const string connectionString = "Host=127.0.0.1;Username=relay;Password='a\"b\\c;d'";
        var config = LedgerPersistence.Config(new LedgerSettings(LedgerStorage.Postgresql, "unused.db", new Messages.Secret(connectionString), 500));

        Assert.Equal(connectionString, config.GetString(LedgerPersistence.JournalPluginId + ".connection-string"));
        Assert.Equal("PostgreSQL.15", config.GetString(LedgerPersistence.SnapshotPluginId + ".provider-name"));
    }
}
