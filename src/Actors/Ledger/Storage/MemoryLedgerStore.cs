using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// The ledger's tables in this process's memory, for <c>storage = memory</c> (tests): the same contract as the SQL
/// stores, gone with the process. One lock guards both tables; every call is short.
/// </summary>
internal sealed class MemoryLedgerStore : ILedgerStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, KeyRow> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UsageRecord> _usage = new(StringComparer.Ordinal);

    public Task EnsureCreatedAsync(CancellationToken ct) => Task.CompletedTask;

    public Task InsertKeyAsync(KeyRow key, CancellationToken ct)
    {
        lock (_lock)
        {
            if (_keys.ContainsKey(key.KeyId) || _keys.Values.Any(k => k.SecretHash == key.SecretHash))
                throw new LedgerKeyConflictException(key.KeyId);
            _keys.Add(key.KeyId, key with { CreatedAt = LedgerTime.Normalize(key.CreatedAt), RevokedAt = Normalize(key.RevokedAt) });
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<KeyRow>> ListKeysAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<KeyRow>>(
                [.. _keys.Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)]);
        }
    }

    public Task<KeyRow?> FindKeyByHashAsync(string secretHash, CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult(_keys.Values.FirstOrDefault(k => k.SecretHash == secretHash));
        }
    }

    public Task UpdateKeyAsync(string keyId, string name, DateTimeOffset? revokedAt, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_keys.TryGetValue(keyId, out var key)) throw new KeyNotFoundException($"No key '{keyId}' in the ledger.");
            _keys[keyId] = key with { Name = name, RevokedAt = Normalize(revokedAt) };
        }
        return Task.CompletedTask;
    }

    public Task WriteUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct)
    {
        lock (_lock)
        {
            foreach (var record in records)
            {
                _usage.TryAdd(record.RequestId, record with
                {
                    StartedAt = LedgerTime.Normalize(record.StartedAt),
                    EndedAt = LedgerTime.Normalize(record.EndedAt),
                });
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<UsageRecord>> QueryUsageAsync(UsageQuery query, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query.Limit));
        var since = Normalize(query.Since);
        var until = Normalize(query.Until);
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<UsageRecord>>(
            [
                .. _usage.Values
                    .Where(u => (query.KeyId is null || u.KeyId == query.KeyId)
                                && (since is null || u.StartedAt >= since)
                                && (until is null || u.StartedAt < until))
                    .OrderBy(u => u.StartedAt)
                    .ThenBy(u => u.RequestId, StringComparer.Ordinal)
                    .Take(query.Limit),
            ]);
        }
    }

    private static DateTimeOffset? Normalize(DateTimeOffset? time) => time is { } t ? LedgerTime.Normalize(t) : null;
}
