using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// The ledger's read side: the <c>keys</c> and <c>usage</c> tables, in the same database as the key actors'
/// journal, so <c>/admin/usage</c> and key lookups never replay a journal. Safe to call from several actors at
/// once (each call uses its own connection). Made by <see cref="LedgerStores.Create"/>.
/// </summary>
public interface ILedgerStore
{
    /// <summary>Creates the tables and their indexes when they are missing; leaves existing ones (and their rows) alone.</summary>
    Task EnsureCreatedAsync(CancellationToken ct);

    /// <summary>Adds a key. Throws <see cref="LedgerKeyConflictException"/> when its id or its secret hash is taken.</summary>
    Task InsertKeyAsync(KeyRow key, CancellationToken ct);

    /// <summary>Every key, revoked ones too, oldest first.</summary>
    Task<IReadOnlyList<KeyRow>> ListKeysAsync(CancellationToken ct);

    Task<KeyRow?> FindKeyByHashAsync(string secretHash, CancellationToken ct);

    /// <summary>Renames a key and sets (or clears) its revocation time. Throws <see cref="KeyNotFoundException"/> for an unknown id.</summary>
    Task UpdateKeyAsync(string keyId, string name, DateTimeOffset? revokedAt, CancellationToken ct);

    /// <summary>
    /// Writes the records in one transaction: all or none. A request id already written is skipped, so a batch
    /// written again after a crash counts each request once.
    /// </summary>
    Task WriteUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct);

    /// <summary>The records <paramref name="query"/> selects, ordered by start time, then request id.</summary>
    Task<IReadOnlyList<UsageRecord>> QueryUsageAsync(UsageQuery query, CancellationToken ct);
}
