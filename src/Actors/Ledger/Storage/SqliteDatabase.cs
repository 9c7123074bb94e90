using Microsoft.Data.Sqlite;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// The ledger's SQLite file, shared by the SQL journal, the snapshot store and <see cref="SqliteLedgerStore"/>.
/// WAL lets readers work while one connection writes; writers still take turns, and a connection that finds the
/// file locked retries for <see cref="BusyTimeoutSeconds"/> (Microsoft.Data.Sqlite's command timeout) instead of
/// failing with "database is locked".
/// </summary>
public static class SqliteDatabase
{
    public const int BusyTimeoutSeconds = 30;

    public static string ConnectionString(string file) => new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = BusyTimeoutSeconds,
    }.ToString();

    /// <summary>
    /// Creates the file's directory and the file, and puts it in WAL mode (a setting the file keeps, so every later
    /// connection, the journal's too, gets it). Run before the actor system starts.
    /// </summary>
    public static void Prepare(string file)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        using var connection = new SqliteConnection(ConnectionString(file));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"SQLite database '{file}' refused WAL mode (journal_mode is '{mode}').");
    }
}
