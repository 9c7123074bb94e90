using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Orchestrator.Tests.Ledger.Storage;

/// <summary>
/// A throwaway PostgreSQL server for the test run: Debian's binaries (/usr/lib/postgresql/N/bin), a cluster in a
/// temporary directory, listening on 127.0.0.1 at a free port with its socket in that directory, trust auth.
/// initdb refuses to run as root, so as root the server runs as the <c>postgres</c> user. No binaries: every test
/// that needs it is skipped with <see cref="UnavailableReason"/>; binaries that fail to start fail the tests.
/// Stopped by its PID and deleted at the end of the run.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string Database = "orchestrator_test";
    /// <summary>Where Debian installs each major version (N/bin); ORCHESTRATOR_TEST_PG_ROOT points elsewhere.</summary>
    private static readonly string SearchRoot = Environment.GetEnvironmentVariable("ORCHESTRATOR_TEST_PG_ROOT") ?? "/usr/lib/postgresql";

    private string? _directory;
    private int? _pid;
    private string? _adminConnectionString;
    private Exception? _startFailure;

    /// <summary>Why the PostgreSQL tests are skipped, or null when the server runs.</summary>
    public string? UnavailableReason { get; private set; }

    public async Task InitializeAsync()
    {
        var bin = FindBinaries();
        if (bin is null)
        {
            UnavailableReason = $"PostgreSQL server binaries not found ({SearchRoot}/*/bin/initdb and pg_ctl); " +
                                "install Debian's postgresql package (.ci/run does) to run these tests";
            await Console.Error.WriteLineAsync("PostgreSQL tests skipped: " + UnavailableReason);
            return;
        }
        try
        {
            await StartAsync(bin);
        }
        catch (Exception ex)
        {
            _startFailure = ex;
        }
    }

    /// <summary>A connection string to a new, empty schema of the test database (its own search path), so tests never see each other's tables.</summary>
    public async Task<string> NewSchemaAsync()
    {
        Skip.If(UnavailableReason is not null, UnavailableReason);
        if (_startFailure is not null) throw new InvalidOperationException("The test PostgreSQL server did not start.", _startFailure);
        var schema = "t_" + Guid.NewGuid().ToString("N");
        var builder = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = Database };
        await using (var connection = new NpgsqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await command.ExecuteNonQueryAsync();
        }
        builder.SearchPath = schema;
        return builder.ConnectionString;
    }

    private static string? FindBinaries()
    {
        if (!Directory.Exists(SearchRoot)) return null;
        return Directory.GetDirectories(SearchRoot)
            .Select(version => Path.Combine(version, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
            .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private async Task StartAsync(string bin)
    {
        _directory = Path.Combine(Path.GetTempPath(), "orchestrator-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        var asRoot = Environment.UserName == "root";
        if (asRoot) await RunAsync("chown", ["postgres:postgres", _directory], asRoot: false);
        var data = Path.Combine(_directory, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], asRoot);

        // A port free a moment ago may be taken by the time the server binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            try
            {
                // fsync off: these tests kill processes, never the machine.
                await RunAsync(Path.Combine(bin, "pg_ctl"),
                    ["-D", data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
                     "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {_directory} -c fsync=off", "start"], asRoot);
                _pid = int.Parse((await File.ReadAllLinesAsync(Path.Combine(data, "postmaster.pid")))[0]);
                _adminConnectionString = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres", Pooling = true,
                }.ConnectionString;
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_pid is { } pid)
        {
            // SIGINT: PostgreSQL's fast shutdown (ends sessions, stops at once); SIGKILL if it has not gone in time.
            await RunAsync("kill", ["-INT", pid.ToString()], asRoot: false);
            var pidFile = Path.Combine(_directory!, "data", "postmaster.pid");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (File.Exists(pidFile) && DateTime.UtcNow < deadline) await Task.Delay(100);
            if (File.Exists(pidFile))
            {
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            }
        }
        if (_directory is not null)
        {
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a command to its end (as the postgres user when <paramref name="asRoot"/>); a non-zero exit throws with its output.</summary>
    private static async Task RunAsync(string file, IReadOnlyList<string> args, bool asRoot)
    {
        var start = new ProcessStartInfo(asRoot ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asRoot)
        {
            foreach (var arg in (string[])["-u", "postgres", "--", file]) start.ArgumentList.Add(arg);
        }
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}: {await stderr}{await stdout}");
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
