using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Ledger.Storage;

public sealed class SqlitePersistenceTests(ITestOutputHelper output) : LedgerPersistenceContract(output), IDisposable
{
    private readonly TempSqliteFile _file = new();

    protected override Task<LedgerSettings> NewDatabaseAsync()
    {
        var settings = new LedgerSettings(LedgerStorage.Sqlite, _file.Path, null, 500);
        SqliteDatabase.Prepare(settings.DatabaseFile);
        return Task.FromResult(settings);
    }

    public void Dispose() => _file.Dispose();
}
