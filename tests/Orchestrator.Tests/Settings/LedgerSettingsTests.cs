using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Settings;

public sealed class LedgerSettingsTests
{
    [Fact]
    public void Defaults_SqliteFileUnderDataInTheWorkingDirectory()
    {
        var ledger = OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText)).Ledger;

        Assert.Equal(LedgerStorage.Sqlite, ledger.Storage);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "data", "orchestrator.db"), ledger.DatabaseFile);
        Assert.Null(ledger.ConnectionString);
        Assert.Equal(500, ledger.SnapshotEvery);
    }

    [Fact]
    public void Postgresql_WithoutConnectionString_FailsNamingTheKey()
    {
        var error = Assert.Throws<InvalidConfigException>(() => TestSettings.From("orchestrator.ledger.storage = postgresql"));

        Assert.Equal("orchestrator.ledger.connection-string", error.Key);
        Assert.Contains("ORCHESTRATOR_DB", error.Message);
    }

    [Fact]
    public void Postgresql_ConnectionStringFromTheEnvironment_HeldAsSecret()
    {
        // The defaults read ${?ORCHESTRATOR_DB}; a user file can do the same with a variable of its own.
        var name = "ORCH_TEST_DB_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "Host=127.0.0.1;Username=relay;Password=hunter2");
        try
        {
            var ledger = TestSettings.From($"orchestrator.ledger {{ storage = postgresql, connection-string = ${{?{name}}} }}").Ledger;

            Assert.Equal("Host=127.0.0.1;Username=relay;Password=hunter2", ledger.ConnectionString!.Reveal());
            Assert.DoesNotContain("hunter2", ledger.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Theory]
    [InlineData("orchestrator.ledger.storage = mysql", "orchestrator.ledger.storage")]
    [InlineData("orchestrator.ledger.snapshot-every = 0", "orchestrator.ledger.snapshot-every")]
    [InlineData("orchestrator.ledger.path = \"\"", "orchestrator.ledger.path")]
    [InlineData("orchestrator.ledger.snapshot-evry = 10", "orchestrator.ledger.snapshot-evry")]
    public void InvalidLedgerKey_FailsNamingIt(string config, string key)
    {
        var error = Assert.Throws<InvalidConfigException>(() => TestSettings.From(config));
        Assert.Equal(key, error.Key);
    }

    [Fact]
    public void AkkaPersistenceInAConfigFile_IsRefused()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            TestSettings.From("akka.persistence.journal.plugin = \"akka.persistence.journal.inmem\""));

        Assert.Equal("akka.persistence", error.Key);
        Assert.Contains("orchestrator.ledger", error.Message);
    }
}
