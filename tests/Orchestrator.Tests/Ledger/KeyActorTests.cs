using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Ledger;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Tests.Ledger;

/// <summary>
/// One key's ledger on virtual time and Akka's in-memory journal: admission by balance and limits, token buckets
/// refilling as time passes, settlement (once), and recovery from the journal and from a snapshot.
/// </summary>
public sealed class KeyActorTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig.WithFallback(ConfigurationFactory.ParseString("""
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)))
{
    private static readonly LedgerOptions Options = new(SnapshotEvery: 500, ReservationTimeout: TimeSpan.FromMinutes(30));
    private TestProbe? _recorder;
    private TestProbe Recorder => _recorder ??= CreateTestProbe();
    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private async Task<IActorRef> KeyAsync(string id, decimal credit = 1m, KeyLimits? limits = null, DateTimeOffset? expiresAt = null, LedgerOptions? options = null)
    {
        var key = Sys.ActorOf(KeyActor.Props(id, options ?? Options, Recorder), "key-" + id);
        key.Tell(new CreateKey(id, "test", "hash-" + id, credit, null, limits ?? KeyLimits.None, expiresAt));
        await ExpectMsgAsync<KeyView>();
        return key;
    }

    private async Task<object> ReserveAsync(IActorRef key, string id, string requestId, long tokens, decimal cost = 0m)
    {
        key.Tell(new Reserve(id, requestId, "m", tokens, cost));
        return await ExpectMsgAsync<object>(m => m is Admitted or NotAdmitted);
    }

    private static UsageRecord Usage(string keyId, string requestId, long input, long output, decimal cost) =>
        new(requestId, keyId, "m", "p", input, 0, output, 0, cost, 200, "stop", false, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null);

    private async Task<KeyView> ViewAsync(IActorRef key, string id)
    {
        key.Tell(new GetKey(id));
        return await ExpectMsgAsync<KeyView>();
    }

    private static string Header(NotAdmitted refused, string name) => refused.Error.Headers.Single(h => h.Key == name).Value;

    [Fact]
    public async Task UnknownModel_KeyWithAndWithoutAllowList_RefusedAsNotFoundSuggestingOnlyWhatTheKeyMayUse()
    {
        var open = await KeyAsync("open");
        open.Tell(new Reserve("open", "r1", "gpt-41", 0, 0m) { UnknownModel = ["gpt-4.1", "gpt-4o"] });
        var refused = await ExpectMsgAsync<NotAdmitted>();
        Assert.Equal(404, refused.Error.Status);
        Assert.Equal("The model 'gpt-41' does not exist or is not configured here. Closest configured models: gpt-4.1, gpt-4o.", refused.Error.Message);

        var limited = Sys.ActorOf(KeyActor.Props("limited", Options, Recorder), "key-limited");
        limited.Tell(new CreateKey("limited", "test", "hash-limited", 1m, ["claude-sonnet-4-5", "gpt-4o-mini"], KeyLimits.None, null));
        await ExpectMsgAsync<KeyView>();
        // Unknown to the relay, and configured but outside the allow-list: the same answer, from the key's own models.
        limited.Tell(new Reserve("limited", "r2", "gpt-41", 0, 0m) { UnknownModel = ["gpt-4.1", "gpt-4o"] });
        var unknown = await ExpectMsgAsync<NotAdmitted>();
        limited.Tell(new Reserve("limited", "r3", "gpt-4.1", 10, 0.01m));
        var outside = await ExpectMsgAsync<NotAdmitted>();
        Assert.Equal("The model 'gpt-41' does not exist or is not configured here. Closest configured models: gpt-4o-mini, claude-sonnet-4-5.", unknown.Error.Message);
        Assert.Equal(unknown.Error.Message.Replace("gpt-41", "M"), outside.Error.Message.Replace("gpt-4.1", "M"));
        Assert.Equal(0m, (await ViewAsync(limited, "limited")).ReservedUsd);
    }

    [Fact]
    public async Task Rpm_BucketEmpty_RefusedUntilItRefills()
    {
        var key = await KeyAsync("rpm", limits: new KeyLimits(2, null, null));
        Assert.IsType<Admitted>(await ReserveAsync(key, "rpm", "r1", 1));
        Assert.IsType<Admitted>(await ReserveAsync(key, "rpm", "r2", 1));

        var refused = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "rpm", "r3", 1));
        Assert.Equal(429, refused.Error.Status);
        Assert.Equal("rate_limit_exceeded", refused.Error.Code);
        Assert.Equal("30", Header(refused, "Retry-After"));   // 2 a minute: one more in 30s
        Assert.Equal("2", Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Equal("1m0s", Header(refused, "x-ratelimit-reset-requests"));

        Scheduler.Advance(TimeSpan.FromSeconds(29));
        refused = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "rpm", "r4", 1));
        Assert.Equal("1", Header(refused, "Retry-After"));
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<Admitted>(await ReserveAsync(key, "rpm", "r5", 1));
        Assert.IsType<NotAdmitted>(await ReserveAsync(key, "rpm", "r6", 1));
    }

    [Fact]
    public async Task Tpm_SettledForLessThanReserved_GivesTheRestBack()
    {
        var key = await KeyAsync("tpm", limits: new KeyLimits(null, 1000, null));
        Assert.IsType<Admitted>(await ReserveAsync(key, "tpm", "r1", 600));

        var refused = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "tpm", "r2", 600));
        Assert.Equal("tokens", refused.Error.Type);
        Assert.Equal("1000", Header(refused, "x-ratelimit-limit-tokens"));
        Assert.Equal("400", Header(refused, "x-ratelimit-remaining-tokens"));
        Assert.Equal("12", Header(refused, "Retry-After"));   // 200 tokens at 1000 a minute
        Assert.Equal("36s", Header(refused, "x-ratelimit-reset-tokens"));

        key.Tell(new Settle("tpm", Usage("tpm", "r1", 30, 70, 0m)));   // used 100 of its 600
        Assert.IsType<Admitted>(await ReserveAsync(key, "tpm", "r3", 600));   // 900 were there, no time passed
        Assert.IsType<NotAdmitted>(await ReserveAsync(key, "tpm", "r4", 301));
        Assert.IsType<Admitted>(await ReserveAsync(key, "tpm", "r5", 300));
    }

    [Fact]
    public async Task Tpm_BucketEmpty_RefillsWithVirtualTime()
    {
        var key = await KeyAsync("tpm-refill", limits: new KeyLimits(null, 600, null));
        Assert.IsType<Admitted>(await ReserveAsync(key, "tpm-refill", "r1", 600));
        var refused = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "tpm-refill", "r2", 300));
        Assert.Equal("30", Header(refused, "Retry-After"));
        Scheduler.Advance(TimeSpan.FromSeconds(29));
        Assert.IsType<NotAdmitted>(await ReserveAsync(key, "tpm-refill", "r3", 300));
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<Admitted>(await ReserveAsync(key, "tpm-refill", "r4", 300));
        // A request larger than the whole bucket waits for a full one, and is then admitted.
        Scheduler.Advance(TimeSpan.FromMinutes(1));
        Assert.IsType<Admitted>(await ReserveAsync(key, "tpm-refill", "r5", 5000));
    }

    [Fact]
    public async Task Refusal_ByTpmOrBalance_TakesNothingFromTheOtherBuckets()
    {
        var key = await KeyAsync("both", credit: 0.001m, limits: new KeyLimits(2, 100, null));
        Assert.IsType<Admitted>(await ReserveAsync(key, "both", "r1", 60));
        var tpm = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "both", "r2", 41));
        Assert.Equal("tokens", tpm.Error.Type);
        Assert.Equal("1", Header(tpm, "x-ratelimit-remaining-requests"));   // the refused request took none
        Assert.Equal("40", Header(tpm, "x-ratelimit-remaining-tokens"));
        Assert.Equal(402, Assert.IsType<NotAdmitted>(await ReserveAsync(key, "both", "r3", 40, 1m)).Error.Status);
        Assert.IsType<Admitted>(await ReserveAsync(key, "both", "r4", 40));   // the 402 took neither a request nor tokens
        var rpm = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "both", "r5", 1));
        Assert.Equal("requests", rpm.Error.Type);
        Assert.Equal("0", Header(rpm, "x-ratelimit-remaining-tokens"));
    }

    [Fact]
    public async Task MaxConcurrent_Full_RefusedUntilOneSettles()
    {
        var key = await KeyAsync("conc", limits: new KeyLimits(null, null, 2));
        Assert.IsType<Admitted>(await ReserveAsync(key, "conc", "r1", 1));
        Assert.IsType<Admitted>(await ReserveAsync(key, "conc", "r2", 1));
        var refused = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "conc", "r3", 1));
        Assert.Equal(429, refused.Error.Status);
        Assert.Equal("1", Header(refused, "Retry-After"));
        key.Tell(new Settle("conc", Usage("conc", "r1", 1, 1, 0m)));
        Assert.IsType<Admitted>(await ReserveAsync(key, "conc", "r4", 1));
    }

    [Fact]
    public async Task Balance_ReservationToTheMicroDollar_AdmittedThen402()
    {
        var key = await KeyAsync("money", credit: 0.000030m);
        Assert.IsType<Admitted>(await ReserveAsync(key, "money", "r1", 10, 0.000020m));
        Assert.IsType<Admitted>(await ReserveAsync(key, "money", "r2", 10, 0.000010m));   // exactly what is left
        var refused = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "money", "r3", 10, 0.000001m));
        Assert.Equal(402, refused.Error.Status);
        Assert.Equal("insufficient_quota", refused.Error.Type);
        Assert.Equal("insufficient_quota", refused.Error.Code);

        key.Tell(new Settle("money", Usage("money", "r1", 3, 4, 0.000007m)));
        Assert.IsType<Admitted>(await ReserveAsync(key, "money", "r4", 10, 0.000013m));   // the 13 it gave back
        Assert.IsType<NotAdmitted>(await ReserveAsync(key, "money", "r5", 10, 0.000001m));
        var view = await ViewAsync(key, "money");
        Assert.Equal(0.000023m, view.BalanceUsd);
        Assert.Equal(0.000023m, view.ReservedUsd);
    }

    [Fact]
    public async Task Settle_Twice_CountsOnce()
    {
        var key = await KeyAsync("once");
        Assert.IsType<Admitted>(await ReserveAsync(key, "once", "r1", 10, 0.5m));
        var usage = Usage("once", "r1", 3, 4, 0.25m);
        key.Tell(new Settle("once", usage));
        key.Tell(new Settle("once", usage));
        key.Tell(new Settle("once", Usage("once", "never-reserved", 3, 4, 0.25m)));
        var view = await ViewAsync(key, "once");
        Assert.Equal(0.25m, view.SpentUsd);
        Assert.Equal(0.75m, view.BalanceUsd);
        Assert.Equal(0m, view.ReservedUsd);
        Assert.Equal(1, view.Requests);
        Assert.Equal("r1", (await Recorder.ExpectMsgAsync<RecordUsage>()).Record.RequestId);
        await Recorder.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task RevokedOrExpired_Reserve_401()
    {
        var key = await KeyAsync("expiring", expiresAt: Scheduler.Now.AddMinutes(5));
        Assert.IsType<Admitted>(await ReserveAsync(key, "expiring", "r1", 1));
        Scheduler.Advance(TimeSpan.FromMinutes(5));
        var expired = Assert.IsType<NotAdmitted>(await ReserveAsync(key, "expiring", "r2", 1));
        Assert.Equal(401, expired.Error.Status);
        Assert.Contains("expired", expired.Error.Message);

        var revoked = await KeyAsync("revoked");
        revoked.Tell(new RevokeKey("revoked"));
        Assert.True((await ExpectMsgAsync<KeyView>()).Revoked);
        var refused = Assert.IsType<NotAdmitted>(await ReserveAsync(revoked, "revoked", "r1", 1));
        Assert.Equal(401, refused.Error.Status);
        Assert.Contains("revoked", refused.Error.Message);
    }

    [Fact]
    public async Task Reservation_NeverSettled_ReleasedAfterReservationTimeout()
    {
        var key = await KeyAsync("stale", options: Options with { ReservationTimeout = TimeSpan.FromMinutes(4) });
        Assert.IsType<Admitted>(await ReserveAsync(key, "stale", "r1", 1, 0.5m));
        Scheduler.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(0.5m, (await ViewAsync(key, "stale")).ReservedUsd);
        Scheduler.Advance(TimeSpan.FromMinutes(2));
        await AwaitAssertAsync(async () => Assert.Equal(0m, (await ViewAsync(key, "stale")).ReservedUsd));
        key.Tell(new Settle("stale", Usage("stale", "r1", 1, 1, 0.1m)));   // too late: it was released
        var view = await ViewAsync(key, "stale");
        Assert.Equal(1m, view.BalanceUsd);
        Assert.Equal(0, view.Requests);
    }

    [Fact]
    public async Task Restart_FromJournalAndFromSnapshot_SameStateOpenReservationsReleased()
    {
        var options = Options with { SnapshotEvery = 4 };
        var key = await KeyAsync("durable", credit: 2m, limits: new KeyLimits(60, 10_000, 5), options: options);
        key.Tell(new AddCredit("durable", 1.5m, "top-up"));
        await ExpectMsgAsync<KeyView>();
        for (var i = 0; i < 5; i++)
        {
            Assert.IsType<Admitted>(await ReserveAsync(key, "durable", $"r{i}", 10, 0.1m));
            key.Tell(new Settle("durable", Usage("durable", $"r{i}", 3, 4, 0.0123m)));
            var recorded = await Recorder.ExpectMsgAsync<RecordUsage>();
            key.Tell(new UsageWritten("durable", [recorded.Record.RequestId]));   // as the usage table would answer
        }
        Assert.IsType<Admitted>(await ReserveAsync(key, "durable", "open", 10, 0.3m));   // dies with the process
        var before = await ViewAsync(key, "durable");
        Assert.Equal(0.3m, before.ReservedUsd);

        await StopAsync(key);
        // It took a snapshot on the way (every 4 events), so recovery starts from one.
        Akka.Persistence.Persistence.Instance.Apply(Sys).SnapshotStoreFor(null)
            .Tell(new LoadSnapshot("key-durable", SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
        var snapshot = (await ExpectMsgAsync<LoadSnapshotResult>()).Snapshot;
        Assert.NotNull(snapshot);
        Assert.IsType<KeySnapshot>(snapshot.Snapshot);
        var again = Sys.ActorOf(KeyActor.Props("durable", options, Recorder), "key-durable-2");
        var after = await ViewAsync(again, "durable");
        Assert.Equal(before with { ReservedUsd = 0m }, after);
        Assert.Equal(3.5m - 5 * 0.0123m, after.BalanceUsd);
        Assert.Equal(5, after.Requests);
        Assert.Equal(new KeyLimits(60, 10_000, 5), after.Limits);
        // Every settlement reached the usage table before it stopped: nothing is sent again.
        await Recorder.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        // And once more, from the journal after that release: nothing changes.
        await StopAsync(again);
        var third = Sys.ActorOf(KeyActor.Props("durable", options, Recorder), "key-durable-3");
        Assert.Equal(after, await ViewAsync(third, "durable"));
    }

    [Fact]
    public async Task Restart_SettledButNotYetInTheUsageTable_SentAgain()
    {
        var key = await KeyAsync("resend");
        Assert.IsType<Admitted>(await ReserveAsync(key, "resend", "r1", 10, 0.1m));
        key.Tell(new Settle("resend", Usage("resend", "r1", 3, 4, 0.05m)));
        Assert.Equal("r1", (await Recorder.ExpectMsgAsync<RecordUsage>()).Record.RequestId);   // never acknowledged
        await ViewAsync(key, "resend");

        await StopAsync(key);
        var again = Sys.ActorOf(KeyActor.Props("resend", Options, Recorder), "key-resend-2");
        Assert.Equal(0.95m, (await ViewAsync(again, "resend")).BalanceUsd);
        Assert.Equal("r1", (await Recorder.ExpectMsgAsync<RecordUsage>()).Record.RequestId);
    }

    [Fact]
    public async Task ReserveWriteDelay_ShortRequestsWriteOnlyTheirSettlement_LongOnesTheirReservationToo()
    {
        var options = Options with { ReserveWriteDelay = TimeSpan.FromSeconds(1) };
        var key = await KeyAsync("lazy", credit: 1m, options: options);
        Assert.IsType<Admitted>(await ReserveAsync(key, "lazy", "short", 10, 0.2m));
        key.Tell(new Settle("lazy", Usage("lazy", "short", 3, 4, 0.05m)));
        await Recorder.ExpectMsgAsync<RecordUsage>();                                   // the settlement is written
        Assert.IsType<Admitted>(await ReserveAsync(key, "lazy", "long", 10, 0.3m));
        Assert.IsType<Admitted>(await ReserveAsync(key, "lazy", "young", 10, 0.1m));
        Scheduler.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(["KeyCreated", "Settled"], await JournalAsync("key-lazy"));
        Scheduler.Advance(TimeSpan.FromMilliseconds(1));                                // "long" and "young" are 1 s old
        await AwaitAssertAsync(async () => Assert.Equal(["KeyCreated", "Settled", "Reserved", "Reserved"], await JournalAsync("key-lazy")));
        Assert.IsType<Admitted>(await ReserveAsync(key, "lazy", "newest", 10, 0.15m)); // dies unwritten with the process
        Assert.Equal(0.55m, (await ViewAsync(key, "lazy")).ReservedUsd);

        await StopAsync(key);
        var again = Sys.ActorOf(KeyActor.Props("lazy", options, Recorder), "key-lazy-2");
        var view = await ViewAsync(again, "lazy");
        Assert.Equal(0m, view.ReservedUsd);
        Assert.Equal(0.95m, view.BalanceUsd);
        Assert.Equal(1, view.Requests);
        // The two written reservations are released as such; the unwritten one held nothing the journal knows of.
        await AwaitAssertAsync(async () =>
            Assert.Equal(["KeyCreated", "Settled", "Reserved", "Reserved", "Released", "Released"], await JournalAsync("key-lazy")));
    }

    [Fact]
    public async Task GroupCommit_SeveralSettlements_OneJournalRowSameStateAfterRestart()
    {
        var key = await KeyAsync("batch", credit: 1m);
        for (var i = 0; i < 5; i++) Assert.IsType<Admitted>(await ReserveAsync(key, "batch", $"r{i}", 10, 0.1m));
        await Recorder.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        Assert.Equal(["KeyCreated", "Reserved", "Reserved", "Reserved", "Reserved", "Reserved"], await JournalAsync("key-batch"));
        // Five settlements told at once share one group write: one row, every record sent on to the usage table.
        for (var i = 0; i < 5; i++) key.Tell(new Settle("batch", Usage("batch", $"r{i}", 3, 4, 0.01m * (i + 1))));
        var recorded = new List<string>();
        for (var i = 0; i < 5; i++) recorded.Add((await Recorder.ExpectMsgAsync<RecordUsage>()).Record.RequestId);
        Assert.Equal(["r0", "r1", "r2", "r3", "r4"], recorded);
        Assert.Equal(["KeyCreated", "Reserved", "Reserved", "Reserved", "Reserved", "Reserved", "SettledBatch"], await JournalAsync("key-batch"));
        var before = await ViewAsync(key, "batch");
        Assert.Equal(1m - 0.15m, before.BalanceUsd);
        Assert.Equal(0m, before.ReservedUsd);

        await StopAsync(key);
        var again = Sys.ActorOf(KeyActor.Props("batch", Options, Recorder), "key-batch-2");
        Assert.Equal(before, await ViewAsync(again, "batch"));
        // None was acknowledged by the usage table: recovery sends all five again.
        var resent = new List<string>();
        for (var i = 0; i < 5; i++) resent.Add((await Recorder.ExpectMsgAsync<RecordUsage>()).Record.RequestId);
        Assert.Equal(recorded.Order(), resent.Order());
    }

    [Fact]
    public async Task Flush_SettlementWaitingForItsGroup_WrittenAtOnceThenAnswered()
    {
        // A window no test waits out: without the flush, the settlement would sit in memory for an hour.
        var key = await KeyAsync("flush", credit: 1m, options: Options with { GroupCommit = TimeSpan.FromHours(1) });
        Assert.IsType<Admitted>(await ReserveAsync(key, "flush", "r1", 10, 0.1m));
        key.Tell(new Settle("flush", Usage("flush", "r1", 3, 4, 0.02m)));
        Assert.Equal(["KeyCreated"], await JournalAsync("key-flush"));

        key.Tell(new FlushKey("flush"));
        await ExpectMsgAsync<KeyFlushed>();
        Assert.Equal(["KeyCreated", "Settled"], await JournalAsync("key-flush"));

        await StopAsync(key);
        var again = Sys.ActorOf(KeyActor.Props("flush", Options, Recorder), "key-flush-2");
        Assert.Equal(0.98m, (await ViewAsync(again, "flush")).BalanceUsd);
    }

    /// <summary>The event types in a key's journal, in order.</summary>
    private async Task<string[]> JournalAsync(string persistenceId)
    {
        var journal = Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null);
        var reader = CreateTestProbe();
        journal.Tell(new ReplayMessages(0, long.MaxValue, long.MaxValue, persistenceId, reader.Ref), reader.Ref);
        var events = new List<string>();
        while (true)
        {
            var message = await reader.ExpectMsgAsync<object>();
            if (message is ReplayedMessage replayed) events.Add(replayed.Persistent.Payload.GetType().Name);
            else if (message is RecoverySuccess) return [.. events];
            else throw new InvalidOperationException($"unexpected {message}");
        }
    }

    private async Task StopAsync(IActorRef key)
    {
        Watch(key);
        key.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(key);
    }
}
