namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>Another process runs the ledger this one was to run (<see cref="LedgerOwnership"/>).</summary>
public sealed class LedgerInUseException(string ledger, Exception? inner)
    : Exception($"{ledger} is in use by another process: a running Orchestrator service, or its keys command.", inner)
{
    /// <summary>The ledger, as the message names it (a path, or a database and its host; never a password).</summary>
    public string Ledger { get; } = ledger;
}
