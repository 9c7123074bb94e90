namespace Orchestrator.Actors.Ledger;

/// <summary>What every key actor is told: how often it snapshots, how long a reservation may stay unsettled.</summary>
public sealed record LedgerOptions(int SnapshotEvery, TimeSpan ReservationTimeout)
{
    /// <summary>How long a key's first unwritten event waits for others to share its journal write (zero: what is in the mailbox).</summary>
    public TimeSpan GroupCommit { get; init; }

    /// <summary>How long a request runs before its reservation is journaled (zero: with the next group write).</summary>
    public TimeSpan ReserveWriteDelay { get; init; }

    /// <summary>How long settled requests wait to share one usage-table write (zero: at once).</summary>
    public TimeSpan UsageFlushInterval { get; init; }
}
