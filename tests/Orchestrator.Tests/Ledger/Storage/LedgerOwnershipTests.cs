using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>One process runs a ledger at a time: a second taker is refused, by name, until the first lets go.</summary>
public sealed class LedgerOwnershipTests
{
    [Fact]
    public void Sqlite_TakenTwice_SecondRefusedUntilTheFirstLetsGo()
    {
        using var database = new TempSqliteFile();
        SqliteDatabase.Prepare(database.Path);
        var settings = new LedgerSettings(LedgerStorage.Sqlite, database.Path, null, 500);
        var first = LedgerOwnership.Take(settings);
        var refused = Assert.Throws<LedgerInUseException>(() => LedgerOwnership.Take(settings));
        Assert.Contains(Path.GetFullPath(database.Path), refused.Message);
        Assert.Contains("in use by another process", refused.Message);

        first.Dispose();
        LedgerOwnership.Take(settings).Dispose();
    }

    [Fact]
    public async Task App_BuiltNeverStartedThenDisposed_LetsTheLedgerGo()
    {
        using var database = new TempSqliteFile();
        var config = Path.Combine(Path.GetTempPath(), $"orchestrator-owner-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(config, $"orchestrator.ledger {{ storage = sqlite, path = {Actors.Settings.HoconLoader.Quote(database.Path)} }}");
        try
        {
            var settings = new LedgerSettings(LedgerStorage.Sqlite, database.Path, null, 500);
            var app = OrchestratorApp.Build(["--urls", "http://127.0.0.1:0", "--config", config]);
            Assert.Throws<LedgerInUseException>(() => LedgerOwnership.Take(settings));   // built: the ledger is its

            await app.DisposeAsync();
            LedgerOwnership.Take(settings).Dispose();
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void Sqlite_TwoDatabases_TwoOwners()
    {
        using var one = new TempSqliteFile();
        using var other = new TempSqliteFile();
        SqliteDatabase.Prepare(one.Path);
        SqliteDatabase.Prepare(other.Path);
        using var first = LedgerOwnership.Take(new LedgerSettings(LedgerStorage.Sqlite, one.Path, null, 500));
        using var second = LedgerOwnership.Take(new LedgerSettings(LedgerStorage.Sqlite, other.Path, null, 500));
    }
}
