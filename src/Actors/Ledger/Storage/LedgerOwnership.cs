using Npgsql;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// A ledger has one process running it at a time. Each key's events are numbered by the one actor that holds the key;
/// a second process replaying the same keys (a second service on the same database, or the <c>keys</c> command while
/// the service runs) would release the first one's open reservations as left over by a dead process and take the
/// journal's next numbers from under it: the first one's settlements then fail to write, and the requests they
/// billed are lost. The process that runs a ledger holds its ownership for as long as it does: an OS lock on a file
/// beside the SQLite database, or a PostgreSQL advisory lock held by one connection. Either goes with the process,
/// a <c>kill -9</c> included. The in-memory ledger belongs to its process anyway.
/// </summary>
public sealed class LedgerOwnership : IDisposable
{
    // pg_try_advisory_lock's key within the ledger's database: "ORCHLEDG", mixed with the search path (the schema
    // the ledger's tables are in), so two ledgers in two schemas of one database are two owners.
    private const long AdvisoryLockKey = 0x4F52_4348_4C45_4447;

    private IDisposable? _held;

    private LedgerOwnership(IDisposable? held) => _held = held;

    /// <summary>The file whose lock stands for a SQLite ledger's ownership.</summary>
    public static string LockFile(string databaseFile) => Path.GetFullPath(databaseFile) + ".owner";

    /// <summary>Takes the ledger for this process, or throws <see cref="LedgerInUseException"/> when another holds it.</summary>
    public static LedgerOwnership Take(LedgerSettings settings) => settings.Storage switch
    {
        LedgerStorage.Sqlite => new LedgerOwnership(LockSqlite(settings.DatabaseFile)),
        LedgerStorage.Postgresql => new LedgerOwnership(LockPostgres(settings.ConnectionString!.Reveal())),
        _ => new LedgerOwnership(null),
    };

    private static FileStream LockSqlite(string databaseFile)
    {
        var file = LockFile(databaseFile);
        try
        {
            // FileShare.None: an exclusive lock (flock on Linux) that no other open of the file gets while this one lives.
            return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
        {
            throw new LedgerInUseException($"the SQLite ledger '{Path.GetFullPath(databaseFile)}'", ex);
        }
    }

    private static PostgresLock LockPostgres(string connectionString)
    {
        // A connection of its own, outside any pool, so the lock lives exactly as long as this ownership.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        var key = AdvisoryLockKey ^ Fnv1a(builder.SearchPath ?? "");
        try
        {
            connection.Open();
            using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            if (command.ExecuteScalar() is true) return new PostgresLock(connection, key);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        connection.Dispose();
        throw new LedgerInUseException($"the PostgreSQL ledger (database '{builder.Database}' on {builder.Host}:{builder.Port})", null);
    }

    /// <summary>Lets the ledger go; again is nothing (the actor system's end and the service provider may both call it).</summary>
    public void Dispose() => Interlocked.Exchange(ref _held, null)?.Dispose();

    /// <summary>
    /// Unlocked before its connection closes: the server drops a closed session's locks only once its backend has
    /// gone, a moment after the client's Close returns, and a taker in that moment would be refused.
    /// </summary>
    private sealed class PostgresLock(NpgsqlConnection connection, long key) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", key);
                command.ExecuteNonQuery();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // The connection is already gone, and the lock with it.
            }
            connection.Dispose();
        }
    }

    // A hash that is the same in every process and every .NET version (string.GetHashCode is neither).
    private static long Fnv1a(string text)
    {
        var hash = unchecked((long)0xcbf29ce484222325);
        foreach (var c in text) hash = unchecked((hash ^ c) * 0x100000001b3);
        return hash;
    }
}
