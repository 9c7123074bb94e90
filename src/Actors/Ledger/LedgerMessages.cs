using System.Collections.Immutable;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger;

/// <summary>A settled request for the usage table; <see cref="UsageWritten"/> comes back once it is there.</summary>
public sealed record RecordUsage(string KeyId, UsageRecord Record) : IKeyMessage;

/// <summary>These requests' rows are in the usage table (or already were).</summary>
public sealed record UsageWritten(string KeyId, ImmutableArray<string> RequestIds) : IKeyMessage;

/// <summary>Whether the ledger has loaded its keys and can admit requests. Replies <see cref="LedgerStatus"/>.</summary>
public sealed record GetLedgerStatus
{
    public static readonly GetLedgerStatus Instance = new();
}

public sealed record LedgerStatus(bool Ready, string? Reason);
