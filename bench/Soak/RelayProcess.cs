using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Orchestrator.Bench.Soak;

/// <summary>
/// The relay as a child process (this same program with <c>relay</c>), so its memory is its own: started on port 0,
/// its output kept in a log file, stopped by its own PID when the soak ends.
/// </summary>
public sealed class RelayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private RelayProcess(Process process, StreamWriter log, Uri url)
    {
        _process = process;
        _log = log;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    public static async Task<RelayProcess> StartAsync(string config, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(RelayProcess).Assembly.Location);
        foreach (var arg in new[] { "relay", "--config", config, "--urls", "http://127.0.0.1:0" }) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("the relay did not start");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith("listening ", StringComparison.Ordinal)) listening.TrySetResult(new Uri(e.Data["listening ".Length..]));
            lock (log) log.WriteLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"the relay exited with {process.ExitCode}; see {logPath}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new RelayProcess(process, log, url);
    }

    public bool HasExited => _process.HasExited;

    /// <summary><c>GET /soak/stats</c>; with <paramref name="gc"/>, after a full compacting collection.</summary>
    public static async Task<JsonObject> StatsAsync(HttpClient http, Uri relay, bool gc) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(relay, gc ? "/soak/stats?gc=1" : "/soak/stats")))!.AsObject();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
