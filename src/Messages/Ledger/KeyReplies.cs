using System.Collections.Immutable;

namespace Orchestrator.Messages.Ledger;

/// <summary>A key as the admin API shows it: never its secret or the secret's hash.</summary>
public sealed record KeyView(string KeyId, string Name, decimal BalanceUsd, decimal SpentUsd, decimal ReservedUsd, decimal CreditedUsd,
    long Requests, ImmutableArray<string>? Models, KeyLimits Limits, DateTimeOffset? ExpiresAt, bool Revoked, DateTimeOffset CreatedAt);

public sealed record KeyNotFound(string KeyId);

/// <summary>A command the key could not take (a duplicate id, a limit out of range), with why.</summary>
public sealed record KeyRefused(string KeyId, string Reason);

/// <summary>The ids of every key, oldest first, revoked ones included.</summary>
public sealed record KeyList(ImmutableArray<string> KeyIds);

/// <summary>Which key a secret's hash belongs to. Replies <see cref="KeyIdentified"/> or <see cref="KeyNotIdentified"/>.</summary>
public sealed record IdentifyKey(string SecretHash);

public sealed record KeyIdentified(string KeyId);

/// <summary>No such key, or it was revoked or has expired; <see cref="Reason"/> says which, for the 401's message.</summary>
public sealed record KeyNotIdentified(string Reason);
