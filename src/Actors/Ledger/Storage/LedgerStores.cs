using Orchestrator.Actors.Settings;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>The <see cref="ILedgerStore"/> for the configured storage: the same database as the journal.</summary>
public static class LedgerStores
{
    public static ILedgerStore Create(LedgerSettings settings) => settings.Storage switch
    {
        LedgerStorage.Sqlite => new SqliteLedgerStore(settings.DatabaseFile),
        LedgerStorage.Postgresql => new PostgresLedgerStore(settings.ConnectionString!),
        LedgerStorage.Memory => new MemoryLedgerStore(),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Storage, "unknown ledger storage"),
    };
}
