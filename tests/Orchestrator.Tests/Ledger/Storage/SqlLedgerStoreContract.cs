using Orchestrator.Messages.Ledger;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>What the SQL stores add to the contract: a batch is one transaction.</summary>
public abstract class SqlLedgerStoreContract(ITestOutputHelper output) : LedgerStoreContract(output)
{
    [SkippableFact]
    public async Task WriteUsage_OneRecordRefused_WritesNoneOfTheBatch()
    {
        var store = await NewStoreAsync();
        var broken = Usage("req_2", "key_1", T0) with { Model = null! };   // NOT NULL refuses it

        await Assert.ThrowsAnyAsync<Exception>(() => store.WriteUsageAsync([Usage("req_1", "key_1", T0), broken, Usage("req_3", "key_1", T0)], default));

        Assert.Empty(await store.QueryUsageAsync(new UsageQuery(null, null, null, 10), default));
    }
}
