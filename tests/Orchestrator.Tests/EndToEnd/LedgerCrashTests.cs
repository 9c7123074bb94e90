using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Orchestrator.Tests.Ledger.Storage;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// The real service as its own process on a SQLite ledger, killed with SIGKILL while streams are in flight and
/// started again on the same file: no finished request lost or counted twice, no reservation left behind. And the
/// <c>keys</c> command beside it, which must not touch a ledger the service runs.
/// </summary>
public sealed class LedgerCrashTests(ITestOutputHelper output) : IDisposable
{
    private const string Admin = "sk-admin-crash-test";
    private const decimal Credit = 10m;
    private const decimal InputPrice = 3.1m;
    private const decimal OutputPrice = 7.77m;
    private readonly TempSqliteFile _database = new();
    private readonly string _configFile = Path.Combine(Path.GetTempPath(), $"orchestrator-crash-{Guid.NewGuid():N}.conf");

    /// <summary>A stream as its client read it, event by event.</summary>
    private sealed class Stream
    {
        public string RequestId = "";
        public int Events;
        public bool Done;
        public long? CompletionTokens;
        public long? PromptTokens;
        public readonly TaskCompletionSource Streaming = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task Process_KilledWithStreamsInFlight_RestartLosesNothingCountsNothingTwice()
    {
        var baseUrl = await WriteConfigAsync();

        Process? relay = null;
        try
        {
            relay = await StartAsync(baseUrl);
            using var ledger = new LedgerClient(baseUrl, Admin);
            var key = await ledger.CreateKeyAsync($$"""{"name":"crash","credit_usd":{{Credit}}}""");
            using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };

            // 8 short answers (5 tokens: 250ms) end well before the kill; 12 long ones (200 tokens: 10s) are cut by it.
            var streams = Enumerable.Range(0, 20).Select(_ => new Stream()).ToArray();
            var reads = streams.Select((s, i) => ReadAsync(client, key.Secret,
                LedgerClient.StreamBody("slow", includeUsage: i % 2 == 0, maxTokens: i < 8 ? 5 : null), s)).ToArray();
            await Task.WhenAll(reads.Take(8)).WaitAsync(TimeSpan.FromSeconds(30));
            // Every long stream well under way (30 of 200 tokens: 1.5s), the short ones ended a second or more ago.
            // Not at once: a request settles (its journal write) after its client has read [DONE], so a kill within
            // that moment loses the settlement, and recovery releases the reservation instead of billing it.
            await Task.WhenAll(streams.Skip(8).Select(s => s.Streaming.Task)).WaitAsync(TimeSpan.FromSeconds(30));

            relay.Kill(entireProcessTree: true);   // SIGKILL
            await relay.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await Task.WhenAll(reads.Skip(8)).WaitAsync(TimeSpan.FromSeconds(10));
            var complete = streams.Where(s => s.Done).ToList();
            Assert.Equal(8, complete.Count);
            Assert.All(streams.Skip(8), s => Assert.False(s.Done));

            relay = await StartAsync(baseUrl);
            // The killed requests' reservations are released when the key recovers, at start.
            JsonElement view = default;
            IReadOnlyDictionary<string, JsonElement> records = new Dictionary<string, JsonElement>();
            await Eventually.AssertAsync(async () =>
            {
                view = await ledger.GetKeyAsync(key.Id);
                records = await ledger.UsageAsync(key.Id);
                Assert.Equal(0m, view.GetProperty("reserved_usd").GetDecimal());
                Assert.Equal(complete.Count, records.Count);
            }, TimeSpan.FromSeconds(30));

            // Every answer its client saw whole is there, once, at its usage; nothing else is.
            Assert.Equal(complete.Select(s => s.RequestId).Order(), records.Keys.Order());
            var total = 0m;
            foreach (var record in records.Values)
            {
                var cost = (record.GetProperty("input_tokens").GetInt64() * InputPrice + record.GetProperty("output_tokens").GetInt64() * OutputPrice) / 1_000_000m;
                Assert.Equal(cost, record.GetProperty("cost_usd").GetDecimal());
                Assert.Equal(5, record.GetProperty("output_tokens").GetInt64());
                total += cost;
            }
            foreach (var seen in complete.Where(s => s.CompletionTokens is not null))
            {
                Assert.Equal(seen.CompletionTokens, records[seen.RequestId].GetProperty("output_tokens").GetInt64());
                Assert.Equal(seen.PromptTokens, records[seen.RequestId].GetProperty("input_tokens").GetInt64());
            }
            Assert.Equal(Credit - total, view.GetProperty("balance_usd").GetDecimal());
            Assert.Equal(total, view.GetProperty("spent_usd").GetDecimal());
            Assert.Equal(complete.Count, view.GetProperty("requests").GetInt64());

            // Killed again and started again: nothing settles twice, nothing is released twice.
            relay.Kill(entireProcessTree: true);
            await relay.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            relay = await StartAsync(baseUrl);
            var again = await ledger.GetKeyAsync(key.Id);
            Assert.Equal(view.GetRawText(), again.GetRawText());
            Assert.Equal(records.Keys.Order(), (await ledger.UsageAsync(key.Id)).Keys.Order());
        }
        finally
        {
            await KillAsync(relay);
        }
    }

    [Fact]
    public async Task KeysCommand_ServiceRunningWithAStreamOpen_RefusesAndTheStreamIsBilled()
    {
        var baseUrl = await WriteConfigAsync();
        Process? relay = null;
        try
        {
            relay = await StartAsync(baseUrl);
            using var ledger = new LedgerClient(baseUrl, Admin);
            var key = await ledger.CreateKeyAsync($$"""{"name":"beside","credit_usd":{{Credit}}}""");
            using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
            // 60 tokens, 3 s: its reservation is in the journal (reserve-write-delay 1 s) when the command runs.
            var stream = new Stream();
            var read = ReadAsync(client, key.Secret, LedgerClient.StreamBody("slow", includeUsage: true, maxTokens: 60), stream);
            await stream.Streaming.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // Replaying the keys beside the service would release the open reservation and take the journal's next
            // number from under the stream's settlement: every command is refused, naming the admin API.
            foreach (var command in (string[][])[["list"], ["credit", key.Id, "5"], ["revoke", key.Id], ["create", "--name", "x"]])
            {
                var (exit, _, error) = await RunKeysCommandAsync(command);
                Assert.Equal(2, exit);
                Assert.Contains("in use by a running Orchestrator", error);
                Assert.Contains("POST /admin/keys/ID/credit", error);
            }

            await read.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(stream.Done);
            JsonElement view = default;
            await Eventually.AssertAsync(async () =>
            {
                view = await ledger.GetKeyAsync(key.Id);
                Assert.Equal(1, view.GetProperty("requests").GetInt64());
                Assert.Single(await ledger.UsageAsync(key.Id));
            }, TimeSpan.FromSeconds(10));
            var cost = (stream.PromptTokens!.Value * InputPrice + stream.CompletionTokens!.Value * OutputPrice) / 1_000_000m;
            Assert.Equal(Credit - cost, view.GetProperty("balance_usd").GetDecimal());
            Assert.Equal(0m, view.GetProperty("reserved_usd").GetDecimal());

            // The service gone (SIGKILL: its lock goes with it), the command runs on the same file.
            relay.Kill(entireProcessTree: true);
            await relay.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var (listed, output, _) = await RunKeysCommandAsync(["list"]);
            Assert.Equal(0, listed);
            Assert.Contains(key.Id, output);
            var (shown, shownOutput, _) = await RunKeysCommandAsync(["show", key.Id]);
            Assert.Equal(0, shown);
            Assert.Contains("1 requests, active", shownOutput);
            Assert.Contains("models: all; rpm: none, tpm: none, max_concurrent: none; expires: never", shownOutput);
        }
        finally
        {
            await KillAsync(relay);
        }
    }

    /// <summary>The service, if still running, killed (SIGKILL) and waited for.</summary>
    private static async Task KillAsync(Process? relay)
    {
        if (relay is { HasExited: false })
        {
            relay.Kill(entireProcessTree: true);
            await relay.WaitForExitAsync();
        }
        relay?.Dispose();
    }

    private async Task<Uri> WriteConfigAsync()
    {
        await File.WriteAllTextAsync(_configFile, $$"""
            orchestrator {
              logging { level = Warning, requests = off }
              admin.keys = ["{{Admin}}"]
              ledger { storage = sqlite, path = "{{_database.Path}}", snapshot-every = 7 }
              providers { slow { kind = simulator, token-delay = 50ms, completion-tokens = 200 } }
              models { "slow" { routes = [ { provider = slow } ], price { input = {{InputPrice}}, output = {{OutputPrice}} } } }
            }
            """);
        return new Uri($"http://127.0.0.1:{FreePort()}");
    }

    /// <summary><c>Orchestrator keys ...</c> on the test's config, as an operator runs it, to its end (bounded).</summary>
    private async Task<(int Exit, string Output, string Error)> RunKeysCommandAsync(string[] command)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Orchestrator.dll"), "keys", .. command, "--config", _configFile])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        Log($"keys {string.Join(' ', command)}: exit {process.ExitCode}; {await error}");
        return (process.ExitCode, await output, await error);
    }

    /// <summary>Reads a stream event by event until it ends or the connection dies.</summary>
    private static async Task ReadAsync(HttpClient client, string key, string body, Stream stream)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new("Bearer", key);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            stream.RequestId = response.Headers.GetValues("x-request-id").Single();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                var data = line["data: ".Length..];
                if (data == "[DONE]")
                {
                    stream.Done = true;
                    break;
                }
                using var chunk = JsonDocument.Parse(data);
                if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    stream.PromptTokens = usage.GetProperty("prompt_tokens").GetInt64();
                    stream.CompletionTokens = usage.GetProperty("completion_tokens").GetInt64();
                }
                if (++stream.Events == 30) stream.Streaming.TrySetResult();
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The process was killed under it.
        }
        finally
        {
            stream.Streaming.TrySetResult();
        }
    }

    /// <summary>The built service (the test's output holds it, with its runtime config), as the operator runs it.</summary>
    private async Task<Process> StartAsync(Uri baseUrl)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Orchestrator.dll"), "--config", _configFile, "--urls", baseUrl.ToString().TrimEnd('/')])
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(5) };
        probe.DefaultRequestHeaders.Authorization = new("Bearer", Admin);
        try
        {
            await Eventually.AssertAsync(async () =>
            {
                Assert.False(process.HasExited, $"the service exited with {(process.HasExited ? process.ExitCode : 0)}");
                using var response = await probe.GetAsync("/admin/keys");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }, TimeSpan.FromSeconds(60));
        }
        catch
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            throw;
        }
        return process;
    }

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has ended; the process's last words go nowhere.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _database.Dispose();
        File.Delete(_configFile);
    }
}
