using Microsoft.Data.Sqlite;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>A database file in a directory of its own that does not exist yet (so creating it is tested too); deleted at the end.</summary>
internal sealed class TempSqliteFile : IDisposable
{
    private readonly string _directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orchestrator-ledger-" + Guid.NewGuid().ToString("N")[..12]);

    public string Path => System.IO.Path.Combine(_directory, "sub", "ledger.db");


    public void Dispose()
    {
        SqliteConnection.ClearAllPools();   // pooled connections hold the file open
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
