using System.Data;
using System.Data.Common;
using System.Text;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// <see cref="ILedgerStore"/> over ADO.NET: the SQL is shared, the database's types are not (how a time, an amount
/// and a key clash are spelled is the subclass's). Every value travels as a parameter. A connection per call,
/// from the provider's pool, so calls from several actors never share one.
/// </summary>
internal abstract class SqlLedgerStore : ILedgerStore
{
    private const string UsageColumns =
        "request_id, key_id, model, provider, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, " +
        "cost_usd, status, finish_reason, usage_estimated, started_at, ended_at, ttft_ms";

    private const string KeyColumns = "key_id, name, secret_hash, created_at, revoked_at";

    protected abstract DbConnection CreateConnection();

    /// <summary>CREATE TABLE / INDEX IF NOT EXISTS statements for <c>keys</c> and <c>usage</c>, run in order.</summary>
    protected abstract IReadOnlyList<string> CreateStatements { get; }

    /// <summary>Appended to <c>ORDER BY ... request_id</c> so ids sort by their bytes whatever the database's collation.</summary>
    protected virtual string BinaryCollation => "";

    protected abstract DbType TimeType { get; }
    protected abstract object TimeValue(DateTimeOffset time);
    protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);
    protected abstract DbType CostType { get; }
    protected abstract object CostValue(decimal cost);
    protected abstract decimal ReadCost(DbDataReader reader, int ordinal);
    protected abstract bool IsUniqueViolation(DbException exception);

    public virtual async Task EnsureCreatedAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        foreach (var statement in CreateStatements)
        {
            await using var command = Command(connection, statement, transaction);
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    public async Task InsertKeyAsync(KeyRow key, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection,
            $"INSERT INTO keys ({KeyColumns}) VALUES (@key_id, @name, @secret_hash, @created_at, @revoked_at)");
        Add(command, "key_id", key.KeyId, DbType.String);
        Add(command, "name", key.Name, DbType.String);
        Add(command, "secret_hash", key.SecretHash, DbType.String);
        AddTime(command, "created_at", key.CreatedAt);
        AddTime(command, "revoked_at", key.RevokedAt);
        try
        {
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            throw new LedgerKeyConflictException(key.KeyId, ex);
        }
    }

    public async Task<IReadOnlyList<KeyRow>> ListKeysAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, $"SELECT {KeyColumns} FROM keys ORDER BY created_at, key_id{BinaryCollation}");
        return await ReadAllAsync(command, ReadKey, ct);
    }

    public async Task<KeyRow?> FindKeyByHashAsync(string secretHash, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, $"SELECT {KeyColumns} FROM keys WHERE secret_hash = @secret_hash");
        Add(command, "secret_hash", secretHash, DbType.String);
        var rows = await ReadAllAsync(command, ReadKey, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task UpdateKeyAsync(string keyId, string name, DateTimeOffset? revokedAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, "UPDATE keys SET name = @name, revoked_at = @revoked_at WHERE key_id = @key_id");
        Add(command, "name", name, DbType.String);
        AddTime(command, "revoked_at", revokedAt);
        Add(command, "key_id", keyId, DbType.String);
        if (await command.ExecuteNonQueryAsync(ct) == 0) throw new KeyNotFoundException($"No key '{keyId}' in the ledger.");
    }

    public async Task WriteUsageAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct)
    {
        if (records.Count == 0) return;
        await using var connection = await OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // One command, prepared once, its parameters refilled per record.
        await using var command = Command(connection,
            $"INSERT INTO usage ({UsageColumns}) VALUES (@request_id, @key_id, @model, @provider, @input_tokens, " +
            "@cached_input_tokens, @output_tokens, @reasoning_tokens, @cost_usd, @status, @finish_reason, " +
            "@usage_estimated, @started_at, @ended_at, @ttft_ms) ON CONFLICT (request_id) DO NOTHING", transaction);
        var requestId = Add(command, "request_id", null, DbType.String);
        var keyId = Add(command, "key_id", null, DbType.String);
        var model = Add(command, "model", null, DbType.String);
        var provider = Add(command, "provider", null, DbType.String);
        var inputTokens = Add(command, "input_tokens", null, DbType.Int64);
        var cachedInputTokens = Add(command, "cached_input_tokens", null, DbType.Int64);
        var outputTokens = Add(command, "output_tokens", null, DbType.Int64);
        var reasoningTokens = Add(command, "reasoning_tokens", null, DbType.Int64);
        var cost = Add(command, "cost_usd", null, CostType);
        var status = Add(command, "status", null, DbType.Int32);
        var finishReason = Add(command, "finish_reason", null, DbType.String);
        var estimated = Add(command, "usage_estimated", null, DbType.Boolean);
        var startedAt = Add(command, "started_at", null, TimeType);
        var endedAt = Add(command, "ended_at", null, TimeType);
        var ttft = Add(command, "ttft_ms", null, DbType.Double);
        await command.PrepareAsync(ct);
        foreach (var record in records)
        {
            requestId.Value = record.RequestId;
            keyId.Value = record.KeyId;
            model.Value = record.Model;
            provider.Value = record.Provider;
            inputTokens.Value = record.InputTokens;
            cachedInputTokens.Value = record.CachedInputTokens;
            outputTokens.Value = record.OutputTokens;
            reasoningTokens.Value = record.ReasoningTokens;
            cost.Value = CostValue(record.CostUsd);
            status.Value = record.Status;
            finishReason.Value = (object?)record.FinishReason ?? DBNull.Value;
            estimated.Value = record.UsageEstimated;
            startedAt.Value = TimeValue(record.StartedAt);
            endedAt.Value = TimeValue(record.EndedAt);
            ttft.Value = record.TtftMs is { } ms ? ms : DBNull.Value;
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<UsageRecord>> QueryUsageAsync(UsageQuery query, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query.Limit));
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        // Only the conditions asked for: "@x IS NULL OR ..." would leave the parameter's type for the database to guess.
        var sql = new StringBuilder($"SELECT {UsageColumns} FROM usage WHERE 1 = 1");
        if (query.KeyId is not null)
        {
            sql.Append(" AND key_id = @key_id");
            Add(command, "key_id", query.KeyId, DbType.String);
        }
        if (query.Since is { } since)
        {
            sql.Append(" AND started_at >= @since");
            AddTime(command, "since", since);
        }
        if (query.Until is { } until)
        {
            sql.Append(" AND started_at < @until");
            AddTime(command, "until", until);
        }
        sql.Append($" ORDER BY started_at, request_id{BinaryCollation} LIMIT @limit");
        Add(command, "limit", query.Limit, DbType.Int32);
        command.CommandText = sql.ToString();
        return await ReadAllAsync(command, ReadUsage, ct);
    }

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = CreateConnection();
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static DbCommand Command(DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// A parameter named as the SQL names it, with its '@': Microsoft.Data.Sqlite looks a bare name up once as given and
    /// again under each prefix, converting it to UTF-8 each time, on every execution (half of a usage row's writing);
    /// Npgsql takes either spelling.
    /// </summary>
    private static DbParameter Add(DbCommand command, string name, object? value, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    private void AddTime(DbCommand command, string name, DateTimeOffset? time) =>
        Add(command, name, time is { } t ? TimeValue(t) : null, TimeType);

    private static async Task<IReadOnlyList<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken ct)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(read(reader));
        return rows;
    }

    private KeyRow ReadKey(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        ReadTime(reader, 3),
        reader.IsDBNull(4) ? null : ReadTime(reader, 4));

    private UsageRecord ReadUsage(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetInt64(4),
        reader.GetInt64(5),
        reader.GetInt64(6),
        reader.GetInt64(7),
        ReadCost(reader, 8),
        reader.GetInt32(9),
        reader.IsDBNull(10) ? null : reader.GetString(10),
        reader.GetBoolean(11),
        ReadTime(reader, 12),
        ReadTime(reader, 13),
        reader.IsDBNull(14) ? null : reader.GetDouble(14));
}
