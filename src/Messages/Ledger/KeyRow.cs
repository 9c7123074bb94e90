namespace Orchestrator.Messages.Ledger;

/// <summary>
/// A client key as the ledger's <c>keys</c> table holds it: never the secret, only its hash (SHA-256 of a
/// high-entropy key, looked up by value). Balances and limits live in the key's actor, not here.
/// </summary>
public sealed record KeyRow(string KeyId, string Name, string SecretHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
