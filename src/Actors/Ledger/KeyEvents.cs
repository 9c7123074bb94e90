using System.Collections.Immutable;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger;

/// <summary>
/// What a key's journal holds, in the order things happened. The balance is never stored: it is the credits
/// (<see cref="KeyCreated.CreditUsd"/> and every <see cref="CreditAdded"/>) less every <see cref="Settled"/> cost (and each in a <see cref="SettledBatch"/>), so
/// the log proves it. Persisted by <see cref="LedgerSerializer"/> as JSON under a stable name per type.
/// </summary>
public interface IKeyEvent;

public sealed record KeyCreated(string KeyId, string Name, string SecretHash, decimal CreditUsd, ImmutableArray<string>? Models,
    KeyLimits Limits, DateTimeOffset? ExpiresAt, DateTimeOffset At) : IKeyEvent;

public sealed record CreditAdded(decimal AmountUsd, string? Note, DateTimeOffset At) : IKeyEvent;

public sealed record LimitsChanged(string Name, ImmutableArray<string>? Models, KeyLimits Limits, DateTimeOffset? ExpiresAt, DateTimeOffset At) : IKeyEvent;

/// <summary>A request was admitted with <see cref="CostUsd"/> held against the balance until it settles.</summary>
public sealed record Reserved(string RequestId, string Model, long Tokens, decimal CostUsd, DateTimeOffset At) : IKeyEvent;

/// <summary>A request ended and cost what <see cref="Record"/> says; its reservation is gone.</summary>
public sealed record Settled(UsageRecord Record) : IKeyEvent;

/// <summary>
/// Requests that settled within one group commit, as one journal row: the same as a <see cref="Settled"/> for each
/// record, in order, for a fraction of the writing (the journal's cost is per row, not per byte).
/// </summary>
public sealed record SettledBatch(ImmutableArray<UsageRecord> Records) : IKeyEvent;

/// <summary>A reservation ended without a settlement (the process died with the request, or it outlived reservation-timeout).</summary>
public sealed record Released(string RequestId, string Reason, DateTimeOffset At) : IKeyEvent;

public sealed record Revoked(DateTimeOffset At) : IKeyEvent;

/// <summary>A key's whole state at one point of its journal (the reservations open then included).</summary>
public sealed record KeySnapshot(KeyCreated Created, decimal CreditedUsd, decimal SpentUsd, long Requests, string Name,
    ImmutableArray<string>? Models, KeyLimits Limits, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, ImmutableArray<Reserved> Open) : IKeyEvent;
