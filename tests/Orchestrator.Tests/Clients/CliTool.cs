using System.Diagnostics;
using System.Text;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// A real command-line client from npm (pinned in <c>tests/clients/package.json</c>, installed by <c>.ci/run</c> into
/// <c>tests/clients/node_modules</c>), run non-interactively against a relay on 127.0.0.1. Each run gets a home
/// directory of its own, so no user's settings, logins or history reach the client, and nothing it writes stays.
/// Where the clients are not installed the test is skipped and says how to install them, except under
/// <c>ORCHESTRATOR_REQUIRE_CLIENTS=1</c> (CI), where that is a failure.
/// </summary>
public sealed class CliTool
{
    public const string InstallHint = "npm ci --prefix tests/clients && node tests/clients/node_modules/@anthropic-ai/claude-code/install.cjs";

    private CliTool(string name, string path)
    {
        Name = name;
        Path = path;
    }

    public string Name { get; }

    public string Path { get; }

    /// <summary><c>claude</c>, <c>codex</c> or <c>gemini</c>; skips the test (fails it under CI) when absent.</summary>
    public static CliTool Require(string name)
    {
        var found = Find(name);
        if (found is null && Environment.GetEnvironmentVariable("ORCHESTRATOR_REQUIRE_CLIENTS") == "1")
            throw new InvalidOperationException($"The {name} client is not installed: {InstallHint}");
        Skip.If(found is null, $"the {name} client is not installed ({InstallHint})");
        return new CliTool(name, found!);
    }

    /// <summary>The client's launcher in <c>ORCHESTRATOR_CLIENTS_DIR</c> (a node_modules/.bin), else in the repository's tests/clients.</summary>
    public static string? Find(string name)
    {
        var dirs = new List<string>();
        if (Environment.GetEnvironmentVariable("ORCHESTRATOR_CLIENTS_DIR") is { Length: > 0 } configured) dirs.Add(configured);
        if (RepositoryRoot() is { } root) dirs.Add(System.IO.Path.Combine(root, "tests", "clients", "node_modules", ".bin"));
        return dirs.Select(dir => System.IO.Path.Combine(dir, name)).FirstOrDefault(File.Exists);
    }

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Orchestrator.sln"))) return dir.FullName;
        }
        return null;
    }

    public sealed record Run(int ExitCode, string Stdout, string Stderr, bool TimedOut)
    {
        public override string ToString() =>
            $"exit {ExitCode}{(TimedOut ? " (timed out, killed)" : "")}\n--- stdout ---\n{Tail(Stdout)}\n--- stderr ---\n{Tail(Stderr)}";

        private static string Tail(string text) => text.Length > 6000 ? "..." + text[^6000..] : text;
    }

    /// <summary>
    /// Runs the client with <paramref name="args"/> in <paramref name="workDir"/>, its environment only PATH, a fresh
    /// HOME under <paramref name="workDir"/> and <paramref name="env"/>; standard input closed. Killed (its whole
    /// tree) after <paramref name="timeout"/>.
    /// </summary>
    public async Task<Run> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string> env, string workDir, TimeSpan timeout)
    {
        var home = System.IO.Path.Combine(workDir, ".home");
        Directory.CreateDirectory(home);
        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Clear();
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        start.Environment["HOME"] = home;
        start.Environment["XDG_CONFIG_HOME"] = System.IO.Path.Combine(home, ".config");
        start.Environment["TERM"] = "dumb";
        start.Environment["NO_COLOR"] = "1";
        start.Environment["CI"] = "true";
        foreach (var (name, value) in env) start.Environment[name] = value;

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var readOut = PumpAsync(process.StandardOutput, stdout);
        var readErr = PumpAsync(process.StandardError, stderr);
        var timedOut = false;
        using (var deadline = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        await Task.WhenAll(readOut, readErr).WaitAsync(TimeSpan.FromSeconds(10));
        return new Run(process.ExitCode, stdout.ToString(), stderr.ToString(), timedOut);
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into) into.Append(buffer, 0, read);
        }
    }
}
