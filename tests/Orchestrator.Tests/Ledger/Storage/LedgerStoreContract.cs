using System.Diagnostics;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>
/// What every <see cref="ILedgerStore"/> promises, run against each implementation (SQLite, PostgreSQL, memory).
/// <see cref="SkippableFactAttribute"/>: the PostgreSQL run is skipped, with its reason, where no server can run.
/// </summary>
public abstract class LedgerStoreContract(ITestOutputHelper output)
{
    protected static readonly DateTimeOffset T0 = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A store on an empty database, its tables created.</summary>
    protected abstract Task<ILedgerStore> NewStoreAsync();

    protected ITestOutputHelper Output { get; } = output;

    protected static KeyRow Key(string id, string hash, DateTimeOffset created) => new(id, "name-" + id, hash, created, null);

    protected static UsageRecord Usage(string requestId, string keyId, DateTimeOffset startedAt, decimal cost = 0.0123m) => new(
        requestId, keyId, "gpt-4.1", "openai", 1200, 200, 345, 12, cost, 200, "stop", false,
        startedAt, startedAt.AddMilliseconds(1500.25), 182.5);

    [SkippableFact]
    public async Task Keys_InsertedThenListedAndFoundByHash()
    {
        var store = await NewStoreAsync();
        var b = Key("key_b", "hash-b", T0.AddMinutes(1));
        var a = Key("key_a", "hash-a", T0);
        await store.InsertKeyAsync(b, default);
        await store.InsertKeyAsync(a, default);

        Assert.Equal([a, b], await store.ListKeysAsync(default));   // oldest first
        Assert.Equal(b, await store.FindKeyByHashAsync("hash-b", default));
        Assert.Null(await store.FindKeyByHashAsync("hash-c", default));
    }

    [SkippableFact]
    public async Task InsertKey_IdOrHashTaken_ThrowsConflictAndKeepsTheFirst()
    {
        var store = await NewStoreAsync();
        var first = Key("key_1", "hash-1", T0);
        await store.InsertKeyAsync(first, default);

        var sameId = await Assert.ThrowsAsync<LedgerKeyConflictException>(() => store.InsertKeyAsync(Key("key_1", "hash-2", T0), default));
        var sameHash = await Assert.ThrowsAsync<LedgerKeyConflictException>(() => store.InsertKeyAsync(Key("key_2", "hash-1", T0), default));

        Assert.Equal("key_1", sameId.KeyId);
        Assert.Equal("key_2", sameHash.KeyId);
        Assert.Equal([first], await store.ListKeysAsync(default));
    }

    [SkippableFact]
    public async Task UpdateKey_RenamesRevokesAndRestores()
    {
        var store = await NewStoreAsync();
        await store.InsertKeyAsync(Key("key_1", "hash-1", T0), default);
        var revokedAt = T0.AddDays(3);

        await store.UpdateKeyAsync("key_1", "acme", revokedAt, default);
        Assert.Equal(new KeyRow("key_1", "acme", "hash-1", T0, revokedAt), await store.FindKeyByHashAsync("hash-1", default));

        await store.UpdateKeyAsync("key_1", "acme", null, default);
        Assert.Null((await store.FindKeyByHashAsync("hash-1", default))!.RevokedAt);
    }

    [SkippableFact]
    public async Task UpdateKey_UnknownId_ThrowsKeyNotFound()
    {
        var store = await NewStoreAsync();
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.UpdateKeyAsync("key_missing", "x", null, default));
    }

    [SkippableFact]
    public async Task Usage_EveryField_RoundTripsExactly()
    {
        var store = await NewStoreAsync();
        // Amounts a double cannot hold, and the most digits NUMERIC(38,18) keeps after the point.
        var records = new[]
        {
            Usage("req_1", "key_1", T0, cost: 0.1m + 0.2m),
            Usage("req_2", "key_1", T0.AddSeconds(1), cost: 1234567890.123456789012345678m),
            Usage("req_3", "key_1", T0.AddSeconds(2), cost: 0.000000280000000001m) with
            {
                FinishReason = null, UsageEstimated = true, TtftMs = null, Status = 499,
                InputTokens = long.MaxValue, ReasoningTokens = 0,
            },
        };
        await store.WriteUsageAsync(records, default);

        var read = await store.QueryUsageAsync(new UsageQuery(null, null, null, 100), default);

        Assert.Equal(records, read);
        Assert.Equal(0.3m, read[0].CostUsd);
        Assert.Equal(records.Sum(r => r.CostUsd), read.Sum(r => r.CostUsd));
    }

    [SkippableFact]
    public async Task Usage_Times_ComeBackUtcToTheMicrosecond()
    {
        var store = await NewStoreAsync();
        var local = new DateTimeOffset(2026, 12, 6, 12, 30, 0, TimeSpan.FromHours(2)).AddTicks(1234567);   // .1234567 s
        await store.WriteUsageAsync([Usage("req_1", "key_1", local)], default);

        var read = Assert.Single(await store.QueryUsageAsync(new UsageQuery(null, null, null, 10), default));

        Assert.Equal(TimeSpan.Zero, read.StartedAt.Offset);
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 10, 30, 0, TimeSpan.Zero).AddTicks(1234560), read.StartedAt);
    }

    [SkippableFact]
    public async Task WriteUsage_RequestIdWrittenBefore_KeepsTheFirstRecord()
    {
        var store = await NewStoreAsync();
        var first = Usage("req_1", "key_1", T0, cost: 1m);
        await store.WriteUsageAsync([first], default);

        // A batch replayed after a crash, holding the same request again (twice) next to a new one.
        await store.WriteUsageAsync([first with { CostUsd = 2m }, Usage("req_2", "key_1", T0.AddSeconds(1)), first with { CostUsd = 3m }], default);

        var read = await store.QueryUsageAsync(new UsageQuery(null, null, null, 10), default);
        Assert.Equal(["req_1", "req_2"], read.Select(r => r.RequestId));
        Assert.Equal(1m, read[0].CostUsd);
    }

    [SkippableFact]
    public async Task QueryUsage_KeySinceUntilAndLimit_SelectTheSliceInOrder()
    {
        var store = await NewStoreAsync();
        await store.WriteUsageAsync(
        [
            Usage("req_d", "key_1", T0.AddMinutes(3)),
            Usage("req_c", "key_1", T0.AddMinutes(2)),
            Usage("req_b", "key_1", T0.AddMinutes(2)),   // same start as req_c: ordered by request id
            Usage("req_Z", "key_1", T0.AddMinutes(2)),   // and by its bytes: 'Z' before 'b', whatever the collation
            Usage("req_a", "key_1", T0.AddMinutes(1)),
            Usage("req_x", "key_2", T0.AddMinutes(2)),
        ], default);

        async Task<string[]> Ids(UsageQuery q) => [.. (await store.QueryUsageAsync(q, default)).Select(r => r.RequestId)];

        Assert.Equal(["req_a", "req_Z", "req_b", "req_c", "req_x", "req_d"], await Ids(new UsageQuery(null, null, null, 100)));
        Assert.Equal(["req_a", "req_Z", "req_b", "req_c", "req_d"], await Ids(new UsageQuery("key_1", null, null, 100)));
        Assert.Equal(["req_x"], await Ids(new UsageQuery("key_2", null, null, 100)));
        Assert.Empty(await Ids(new UsageQuery("key_3", null, null, 100)));
        // Since is inclusive, until exclusive.
        Assert.Equal(["req_Z", "req_b", "req_c"], await Ids(new UsageQuery("key_1", T0.AddMinutes(2), T0.AddMinutes(3), 100)));
        Assert.Equal(["req_d"], await Ids(new UsageQuery("key_1", T0.AddMinutes(2).AddTicks(10), null, 100)));
        Assert.Equal(["req_a", "req_Z"], await Ids(new UsageQuery("key_1", null, null, 2)));
        // An offset other than UTC selects the same instant.
        Assert.Equal(["req_a"], await Ids(new UsageQuery(null, null, T0.AddMinutes(2).ToOffset(TimeSpan.FromHours(-5)), 100)));
    }

    [SkippableFact]
    public async Task QueryUsage_LimitBelowOne_Throws()
    {
        var store = await NewStoreAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.QueryUsageAsync(new UsageQuery(null, null, null, 0), default));
    }

    [SkippableFact]
    public async Task EnsureCreated_RunAgain_KeepsTheRows()
    {
        var store = await NewStoreAsync();
        await store.InsertKeyAsync(Key("key_1", "hash-1", T0), default);
        await store.WriteUsageAsync([Usage("req_1", "key_1", T0)], default);

        await store.EnsureCreatedAsync(default);

        Assert.Single(await store.ListKeysAsync(default));
        Assert.Single(await store.QueryUsageAsync(new UsageQuery(null, null, null, 10), default));
    }

    [SkippableFact]
    public async Task WriteUsage_ManyWritersAtOnce_EveryRecordLandsOnce()
    {
        var store = await NewStoreAsync();
        const int writers = 8, batches = 10, perBatch = 20;
        // Writers overlap in request ids (each id is written by two writers), readers query meanwhile.
        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < batches; b++)
            {
                var records = Enumerable.Range(0, perBatch)
                    .Select(i => Usage($"req_{w / 2}_{b}_{i:D2}", $"key_{w / 2}", T0.AddSeconds(b * perBatch + i)))
                    .ToList();
                await store.WriteUsageAsync(records, default);
                await store.QueryUsageAsync(new UsageQuery($"key_{w / 2}", null, null, 5), default);
            }
        }));
        await Task.WhenAll(writing);

        var all = await store.QueryUsageAsync(new UsageQuery(null, null, null, 10_000), default);
        Assert.Equal(writers / 2 * batches * perBatch, all.Count);
        Assert.Equal(all.Count, all.Select(r => r.RequestId).Distinct().Count());
    }

    [SkippableFact]
    public async Task WriteUsage_BatchOfHundred_Measured()
    {
        var store = await NewStoreAsync();
        const int rounds = 20;
        var times = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var batch = Enumerable.Range(0, 100).Select(i => Usage($"req_{round:D2}_{i:D3}", "key_1", T0.AddSeconds(round * 100 + i))).ToList();
            var clock = Stopwatch.StartNew();
            await store.WriteUsageAsync(batch, default);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Output.WriteLine($"{GetType().Name}: WriteUsageAsync(100 records) over {rounds} batches: " +
                         $"min {times[0]:F2} ms, p50 {times[rounds / 2]:F2} ms, max {times[^1]:F2} ms");
        Assert.Equal(rounds * 100, (await store.QueryUsageAsync(new UsageQuery("key_1", null, null, 10_000), default)).Count);
    }
}
