using System.Collections.Immutable;

namespace Orchestrator.Messages.Ledger;

/// <summary>
/// Creates a key. The secret itself never travels: only its SHA-256 (<see cref="SecretHash"/>, lowercase hex).
/// <paramref name="Models"/> is the allow-list (null: every model). Replies <see cref="KeyView"/> or <see cref="KeyRefused"/>.
/// </summary>
public sealed record CreateKey(string KeyId, string Name, string SecretHash, decimal CreditUsd, ImmutableArray<string>? Models,
    KeyLimits Limits, DateTimeOffset? ExpiresAt) : IKeyMessage;

/// <summary>Adds (or, negative, takes away) credit, with the operator's note. Replies <see cref="KeyView"/>.</summary>
public sealed record AddCredit(string KeyId, decimal AmountUsd, string? Note) : IKeyMessage;

/// <summary>Changes what <see cref="Change{T}.Set"/> says is set, leaves the rest. Replies <see cref="KeyView"/>.</summary>
public sealed record ChangeKey(string KeyId, Change<string> Name, Change<ImmutableArray<string>?> Models, Change<int?> Rpm,
    Change<int?> Tpm, Change<int?> MaxConcurrent, Change<DateTimeOffset?> ExpiresAt) : IKeyMessage;

/// <summary>Revokes a key: refused from now on, its history kept. Replies <see cref="KeyView"/>.</summary>
public sealed record RevokeKey(string KeyId) : IKeyMessage;

/// <summary>Replies <see cref="KeyView"/>, or <see cref="KeyNotFound"/>.</summary>
public sealed record GetKey(string KeyId) : IKeyMessage;

/// <summary>
/// Writes what the key holds for its next group commit now, and replies <see cref="KeyFlushed"/> once that and every
/// earlier write are in the journal: a clean stop loses no settlement to the group-commit window.
/// </summary>
public sealed record FlushKey(string KeyId) : IKeyMessage;

public sealed record KeyFlushed(string KeyId);

/// <summary>Every live key flushed (<see cref="FlushKey"/>); replies <see cref="LedgerFlushed"/>.</summary>
public sealed record FlushLedger
{
    public static readonly FlushLedger Instance = new();
}

public sealed record LedgerFlushed(int Keys);

/// <summary>Every key the ledger knows, revoked ones included. Replies <see cref="KeyList"/>.</summary>
public sealed record ListKeys
{
    public static readonly ListKeys Instance = new();
}

/// <summary>A field of a <see cref="ChangeKey"/>: left alone unless <see cref="Set"/>.</summary>
public readonly record struct Change<T>(bool Set, T Value)
{
    public static readonly Change<T> Keep = default;
    public static Change<T> To(T value) => new(true, value);
}
