using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Ledger.Storage;

public sealed class SqliteLedgerStoreTests(ITestOutputHelper output) : SqlLedgerStoreContract(output), IDisposable
{
    private readonly TempSqliteFile _file = new();

    protected override async Task<ILedgerStore> NewStoreAsync()
    {
        var store = LedgerStores.Create(new LedgerSettings(LedgerStorage.Sqlite, _file.Path, null, 500));
        await store.EnsureCreatedAsync(default);
        return store;
    }

    [Fact]
    public async Task EnsureCreated_NoDirectoryYet_CreatesTheFileInWalMode()
    {
        Assert.False(File.Exists(_file.Path));

        await NewStoreAsync();

        Assert.True(File.Exists(_file.Path));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(SqliteDatabase.ConnectionString(_file.Path));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Usage_CostColumn_HoldsTheDecimalAsText()
    {
        var store = await NewStoreAsync();
        await store.WriteUsageAsync([Usage("req_1", "key_1", T0, cost: 0.000000280000000001m)], default);

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(SqliteDatabase.ConnectionString(_file.Path));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT typeof(cost_usd), cost_usd, started_at FROM usage";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("text", reader.GetString(0));
        Assert.Equal("0.000000280000000001", reader.GetString(1));
        Assert.Equal("2026-12-06T10:00:00.000000Z", reader.GetString(2));
    }

    public void Dispose() => _file.Dispose();
}
