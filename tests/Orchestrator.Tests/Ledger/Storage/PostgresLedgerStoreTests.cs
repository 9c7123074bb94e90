using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>The store contract on a real PostgreSQL server (<see cref="PostgresServer"/>); skipped, saying why, without one.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerStoreTests(PostgresServer server, ITestOutputHelper output) : SqlLedgerStoreContract(output)
{
    protected override async Task<ILedgerStore> NewStoreAsync()
    {
        var connectionString = await server.NewSchemaAsync();
        var store = LedgerStores.Create(new LedgerSettings(LedgerStorage.Postgresql, "unused.db", new Secret(connectionString), 500));
        await store.EnsureCreatedAsync(default);
        return store;
    }
}
