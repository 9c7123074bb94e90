using System.Net.Sockets;
using Xunit.Abstractions;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>Runs alone (no other test allocating meanwhile), so the process's managed heap is this test's to measure.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealtimeBackpressureCollection
{
    public const string Name = "realtime-backpressure";
}

/// <summary>The realtime front with a client that never reads, over a bare TCP socket with a small receive buffer.</summary>
[Collection(RealtimeBackpressureCollection.Name)]
public sealed class RealtimeBackpressureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private RelayHost _relay = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        // Pongs and the send timeout are given a minute: nothing but the behaviour under test ends a request here.
        _relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{RelayFixture.ClientKey}}"]
              realtime { heartbeat-timeout = 60s, send-timeout = 60s, send-buffer-frames = 4 }
              providers { fake { kind = openai, base-url = "{{_upstream.BaseUrl}}", api-key = "sk-x" } }
              models {
                "endless"  { routes = [ { provider = fake, model = "endless" } ] }
                "firehose" { routes = [ { provider = fake, model = "firehose" } ] }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static TcpClient NonReadingClient() => new() { ReceiveBufferSize = 4096 };

    private static string Create(string id, string model, string user) =>
        $$"""{"type":"chat.completions.create","id":"{{id}}","model":"{{model}}","user":"{{user}}","messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task Realtime_2000BadFramesFromAClientThatNeverReads_KeepTheHeapWithinAFewMiB()
    {
        using var tcp = NonReadingClient();
        var stream = await RawWebSocket.HandshakeAsync(tcp, _relay.BaseUrl);
        // An unknown type of 13,000 characters: an error that quoted it whole would be 13 KB a frame.
        var bad = RawWebSocket.MaskedText($$"""{"type":"{{new string('x', 13_000)}}","id":"b"}""");
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var sent = 0;
        var cutByRelay = false;
        try
        {
            for (; sent < 2000; sent++) await stream.WriteAsync(bad).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            // The relay closed a socket whose client sends on while not reading (the bounded queue's last resort).
            cutByRelay = true;
        }

        // Every frame written was taken off the socket by the relay (26 MB cannot sit in loopback buffers): what it
        // kept of them is on the heap now.
        var after = GC.GetTotalMemory(forceFullCollection: true);
        // Far more than its queue holds, unless the relay cut the socket first: with send-buffer-frames = 4, a slow
        // moment of the relay's own writer (a loaded machine) fills the queue early, and the cut is the bound at work.
        Assert.True(sent > 64 || cutByRelay, $"the relay stopped taking frames after {sent} without closing the socket");
        output.WriteLine($"heap {before / 1048576.0:0.0} -> {after / 1048576.0:0.0} MiB over {sent} bad frames");
        // Typically about 1 MiB; 16 MiB leaves room for whatever else the process does meanwhile.
        Assert.True(after - before < 16L << 20, $"the heap grew by {(after - before) / 1048576.0:0.0} MiB over {sent} bad frames (~150 MiB before the bounds)");

        // Reading at last: short error events (the 64-character quote), then the end of a client that kept sending
        // while its queue was full: a 1011 close, or a reset when the close handshake timed out first (a reset
        // discards what we had not read, the close frame included).
        var (errors, close, ended, longest) = await ReadFramesAsync(stream, TimeSpan.FromSeconds(10));
        output.WriteLine($"{errors} error events (longest frame {longest} bytes), close {close}, ended {ended}");
        Assert.True(longest <= 1024, $"a frame of {longest} bytes");
        Assert.True(errors == 2000 || ended, $"{errors} error events and the socket still open");
        Assert.True(close is null or 1011, $"closed with {close}");
    }

    /// <summary>Reads server frames until the socket ends: error events counted, the close code if one came, whether it ended, the longest text frame.</summary>
    private static async Task<(int Errors, int? Close, bool Ended, int Longest)> ReadFramesAsync(NetworkStream stream, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        var pending = new List<byte>();
        var buffer = new byte[64 * 1024];
        int errors = 0, longest = 0;
        int? close = null;
        var ended = false;
        try
        {
            while (close is null)
            {
                var read = await stream.ReadAsync(buffer, deadline.Token);
                if (read == 0) { ended = true; break; }
                pending.AddRange(buffer.AsSpan(0, read).ToArray());
                while (RawWebSocket.TryTakeFrame(pending, out var opcode, out var payload))
                {
                    if (opcode == 0x1)
                    {
                        longest = Math.Max(longest, payload.Length);
                        if (System.Text.Encoding.UTF8.GetString(payload).Contains("\"type\":\"error\"", StringComparison.Ordinal)) errors++;
                    }
                    if (opcode == 0x8) { close = payload.Length >= 2 ? (payload[0] << 8) | payload[1] : 1005; ended = true; }
                }
            }
        }
        catch (IOException)
        {
            ended = true;   // reset
        }
        catch (OperationCanceledException)
        {
            // Still open after the wait: ended stays false.
        }
        return (errors, close, ended, longest);
    }

    [Fact]
    public async Task Realtime_SendQueueFull_TheHostStillReadsFrames_ACancelClosesTheUpstream()
    {
        using var tcp = NonReadingClient();
        var stream = await RawWebSocket.HandshakeAsync(tcp, _relay.BaseUrl);
        var user = Guid.NewGuid().ToString("N");
        var firehose = _upstream.Firehose(user);
        await stream.WriteAsync(RawWebSocket.MaskedText(Create("f1", "firehose", user)));

        // The client reads nothing: the queue, the socket buffers and the upstream read all fill, then the upstream
        // stops being read (its writes wait). Wait until its progress stands still.
        var last = -1;
        await WaitUntilAsync(() =>
        {
            var now = firehose.Written;
            var still = now > 0 && now == last;
            last = now;
            return still;
        }, TimeSpan.FromSeconds(30), poll: TimeSpan.FromMilliseconds(500));
        Assert.False(firehose.Finished.Task.IsCompleted);

        // With every send waiting, the cancel frame is still read and acted on: the upstream closes long before send-timeout.
        await stream.WriteAsync(RawWebSocket.MaskedText("""{"type":"chat.completions.cancel","id":"f1"}"""));
        await _upstream.ClosedByRelay(user).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(firehose.Written < FakeUpstream.FirehoseEvents / 2, $"the upstream wrote {firehose.Written} events to a client that read nothing");
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after <paramref name="within"/>.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, TimeSpan? poll = null)
    {
        using var deadline = new CancellationTokenSource(within);
        while (!condition())
        {
            if (deadline.IsCancellationRequested) throw new Xunit.Sdk.XunitException($"not within {within}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(20), CancellationToken.None);
        }
    }
}
