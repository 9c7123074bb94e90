using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger;

/// <summary>
/// Writes settled requests into the usage table (<c>ledger/usage</c>), many per transaction: one write runs at a
/// time and whatever arrives meanwhile goes in the next. A failed write is tried again after a pause; each key actor
/// hears which of its requests are in (<see cref="UsageWritten"/>), and resends the rest after a restart, which the
/// table ignores when it has them (idempotent by request id).
/// </summary>
public sealed class UsageRecorderActor : ReceiveActor, IWithTimers
{
    private const int MaxBatch = 500;
    private const string RetryTimer = "retry";
    private const string FlushTimer = "usage-flush-interval";
    private sealed record FlushDue
    {
        public static readonly FlushDue Instance = new();
    }
    private sealed record WriteDone(ImmutableArray<UsageRecord> Batch);
    private sealed record WriteFailed(ImmutableArray<UsageRecord> Batch, Exception Cause);
    private sealed record RetryWrite
    {
        public static readonly RetryWrite Instance = new();
    }

    private readonly ILedgerStore _store;
    private readonly TimeSpan _flushInterval;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<UsageRecord> _waiting = [];
    private bool _writing;

    public UsageRecorderActor(ILedgerStore store, TimeSpan flushInterval)
    {
        _store = store;
        _flushInterval = flushInterval;
        Receive<RecordUsage>(record =>
        {
            _waiting.Add(record.Record);
            // A full batch goes at once; a smaller one waits for company, one write per interval at most.
            if (_waiting.Count >= MaxBatch || _flushInterval <= TimeSpan.Zero) WriteNext();
            else if (!Timers.IsTimerActive(FlushTimer)) Timers.StartSingleTimer(FlushTimer, FlushDue.Instance, _flushInterval);
        });
        Receive<FlushDue>(_ => WriteNext());
        Receive<WriteDone>(done =>
        {
            _writing = false;
            foreach (var key in done.Batch.GroupBy(r => r.KeyId))
                Context.Parent.Tell(new UsageWritten(key.Key, [.. key.Select(r => r.RequestId)]));
            if (_waiting.Count >= MaxBatch) WriteNext();
            else if (_waiting.Count > 0 && !Timers.IsTimerActive(FlushTimer)) Timers.StartSingleTimer(FlushTimer, FlushDue.Instance, _flushInterval);
        });
        Receive<WriteFailed>(failed =>
        {
            _log.Warning("Usage table write of {Count} records failed, retrying in 1s: {Reason}", failed.Batch.Length, failed.Cause.Message);
            _waiting.InsertRange(0, failed.Batch);
            Timers.StartSingleTimer(RetryTimer, RetryWrite.Instance, TimeSpan.FromSeconds(1));
        });
        Receive<RetryWrite>(_ =>
        {
            _writing = false;
            WriteNext();
        });
    }

    public static Props Props(ILedgerStore store, TimeSpan flushInterval) => Akka.Actor.Props.Create(() => new UsageRecorderActor(store, flushInterval));

    public ITimerScheduler Timers { get; set; } = null!;

    private void WriteNext()
    {
        if (_writing || _waiting.Count == 0) return;
        var count = Math.Min(MaxBatch, _waiting.Count);
        ImmutableArray<UsageRecord> batch = [.. _waiting.GetRange(0, count)];
        _waiting.RemoveRange(0, count);
        _writing = true;
        _store.WriteUsageAsync(batch, CancellationToken.None).PipeTo(Self,
            success: () => new WriteDone(batch),
            failure: ex => new WriteFailed(batch, ex));
    }
}
