using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// The ledger's tables in SQLite. SQLite has no exact decimal type (NUMERIC columns turn amounts into doubles), so
/// <c>cost_usd</c> is TEXT holding the invariant-culture decimal; times are fixed-width ISO-8601 UTC text.
/// </summary>
internal sealed class SqliteLedgerStore(string file) : SqlLedgerStore
{
    private const int SqliteConstraint = 19;   // SQLITE_CONSTRAINT: a UNIQUE or PRIMARY KEY clash, among others

    private readonly string _connectionString = SqliteDatabase.ConnectionString(file);

    protected override IReadOnlyList<string> CreateStatements { get; } =
    [
        """
        CREATE TABLE IF NOT EXISTS keys (
            key_id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS usage (
            request_id TEXT NOT NULL PRIMARY KEY,
            key_id TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_usd TEXT NOT NULL,
            status INTEGER NOT NULL,
            finish_reason TEXT NULL,
            usage_estimated INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            ttft_ms REAL NULL)
        """,
        "CREATE INDEX IF NOT EXISTS usage_key_started ON usage (key_id, started_at)",
        "CREATE INDEX IF NOT EXISTS usage_started ON usage (started_at)",
    ];

    public override Task EnsureCreatedAsync(CancellationToken ct)
    {
        SqliteDatabase.Prepare(file);
        return base.EnsureCreatedAsync(ct);
    }

    protected override DbConnection CreateConnection() => new SqliteConnection(_connectionString);

    protected override DbType TimeType => DbType.String;
    protected override object TimeValue(DateTimeOffset time) => LedgerTime.ToText(time);
    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => LedgerTime.FromText(reader.GetString(ordinal));

    protected override DbType CostType => DbType.String;
    protected override object CostValue(decimal cost) => cost.ToString(CultureInfo.InvariantCulture);
    protected override decimal ReadCost(DbDataReader reader, int ordinal) =>
        decimal.Parse(reader.GetString(ordinal), NumberStyles.Number, CultureInfo.InvariantCulture);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteConstraint };
}
