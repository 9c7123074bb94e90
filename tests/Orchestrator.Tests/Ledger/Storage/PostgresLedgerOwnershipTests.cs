using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>The same on PostgreSQL (an advisory lock per database and schema); skipped, saying why, without a server.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerOwnershipTests(PostgresServer server)
{
    [SkippableFact]
    public async Task Postgres_TakenTwice_SecondRefusedUntilTheFirstLetsGo_OtherSchemaFree()
    {
        var settings = new LedgerSettings(LedgerStorage.Postgresql, "unused.db", new Secret(await server.NewSchemaAsync()), 500);
        var first = LedgerOwnership.Take(settings);
        var refused = Assert.Throws<LedgerInUseException>(() => LedgerOwnership.Take(settings));
        Assert.Contains("PostgreSQL ledger", refused.Message);
        Assert.DoesNotContain("Password", refused.Message, StringComparison.OrdinalIgnoreCase);
        using (LedgerOwnership.Take(settings with { ConnectionString = new Secret(await server.NewSchemaAsync()) }))
        {
        }

        first.Dispose();
        LedgerOwnership.Take(settings).Dispose();
    }
}
