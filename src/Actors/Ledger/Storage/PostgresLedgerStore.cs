using System.Data;
using System.Data.Common;
using Npgsql;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>The ledger's tables in PostgreSQL: <c>cost_usd</c> NUMERIC(38,18) (exact), times <c>timestamptz</c>.</summary>
internal sealed class PostgresLedgerStore(Secret connectionString) : SqlLedgerStore
{
    protected override IReadOnlyList<string> CreateStatements { get; } =
    [
        """
        CREATE TABLE IF NOT EXISTS keys (
            key_id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL UNIQUE,
            created_at TIMESTAMPTZ NOT NULL,
            revoked_at TIMESTAMPTZ NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS usage (
            request_id TEXT NOT NULL PRIMARY KEY,
            key_id TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            input_tokens BIGINT NOT NULL,
            cached_input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            reasoning_tokens BIGINT NOT NULL,
            cost_usd NUMERIC(38, 18) NOT NULL,
            status INTEGER NOT NULL,
            finish_reason TEXT NULL,
            usage_estimated BOOLEAN NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            ended_at TIMESTAMPTZ NOT NULL,
            ttft_ms DOUBLE PRECISION NULL)
        """,
        "CREATE INDEX IF NOT EXISTS usage_key_started ON usage (key_id, started_at)",
        "CREATE INDEX IF NOT EXISTS usage_started ON usage (started_at)",
    ];

    // SQLite compares ids by their bytes; so does the "C" collation, whatever locale the cluster was made with.
    protected override string BinaryCollation => " COLLATE \"C\"";

    protected override DbConnection CreateConnection() => new NpgsqlConnection(connectionString.Reveal());

    protected override DbType TimeType => DbType.DateTimeOffset;
    // Npgsql writes timestamptz only from a UTC offset.
    protected override object TimeValue(DateTimeOffset time) => LedgerTime.Normalize(time);
    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    protected override DbType CostType => DbType.Decimal;
    protected override object CostValue(decimal cost) => cost;
    protected override decimal ReadCost(DbDataReader reader, int ordinal) => reader.GetDecimal(ordinal);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
