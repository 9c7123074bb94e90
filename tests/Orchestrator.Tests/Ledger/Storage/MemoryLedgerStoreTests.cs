using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Ledger.Storage;

public sealed class MemoryLedgerStoreTests(ITestOutputHelper output) : LedgerStoreContract(output)
{
    protected override async Task<ILedgerStore> NewStoreAsync()
    {
        var store = LedgerStores.Create(new LedgerSettings(LedgerStorage.Memory, "unused.db", null, 500));
        await store.EnsureCreatedAsync(default);
        return store;
    }
}
