using Orchestrator.Actors.Settings;
using Orchestrator.Messages;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>The journal round trip on a real PostgreSQL server (<see cref="PostgresServer"/>); skipped, saying why, without one.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresPersistenceTests(PostgresServer server, ITestOutputHelper output) : LedgerPersistenceContract(output)
{
    protected override async Task<LedgerSettings> NewDatabaseAsync() =>
        new(LedgerStorage.Postgresql, "unused.db", new Secret(await server.NewSchemaAsync()), 500);
}
