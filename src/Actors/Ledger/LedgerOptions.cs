namespace Orchestrator.Actors.Ledger;

/// <summary>What every key actor is told: how often it snapshots, how long a reservation may stay unsettled.</summary>
public sealed record LedgerOptions(int SnapshotEvery, TimeSpan ReservationTimeout);
