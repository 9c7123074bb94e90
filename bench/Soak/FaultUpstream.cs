using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Orchestrator.Bench.Soak;

/// <summary>
/// An OpenAI-compatible upstream on Kestrel at 127.0.0.1 that answers every request with <see cref="SoakAnswer"/>
/// and, while <see cref="Chaos"/> is on, injects a random <see cref="Fault"/> into each attempt. It serves
/// <c>/{provider}/v1/chat/completions</c> for any provider name, counts the faults it injected, and counts its open
/// sockets (a connection middleware) and the requests still running, which the soak reads after the last client left.
/// </summary>
public sealed class FaultUpstream : IAsyncDisposable
{
    private static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Weights per fault while chaos is on: about half of the attempts are hit by something.
    private static readonly (Fault Fault, int Weight)[] Mix =
    [
        (Fault.None, 46), (Fault.ResetBeforeHeaders, 5), (Fault.ResetAfterHeaders, 7), (Fault.StallBeforeHeaders, 3),
        (Fault.StallMidStream, 4), (Fault.ServerError, 7), (Fault.RateLimited, 5), (Fault.SlowTrickle, 8),
        (Fault.MalformedEvents, 7), (Fault.ErrorEvent, 3), (Fault.EarlyEof, 5),
    ];

    private static readonly int MixTotal = Mix.Sum(m => m.Weight);

    private readonly WebApplication _app;
    private readonly long[] _faults = new long[Enum.GetValues<Fault>().Length];
    private int _openSockets;
    private int _runningRequests;
    private long _requests;

    private FaultUpstream(WebApplication app) => _app = app;

    /// <summary>On: each attempt draws a fault from the mix. Off: every attempt gets the whole answer.</summary>
    public volatile bool Chaos;

    public Uri BaseUrl { get; private set; } = null!;

    public int OpenSockets => Volatile.Read(ref _openSockets);

    public int RunningRequests => Volatile.Read(ref _runningRequests);

    public long Requests => Interlocked.Read(ref _requests);

    public IReadOnlyDictionary<Fault, long> Faults => Enum.GetValues<Fault>().ToDictionary(f => f, f => Interlocked.Read(ref _faults[(int)f]));

    public static async Task<FaultUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        FaultUpstream? self = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Use(next => async connection =>
            {
                Interlocked.Increment(ref self!._openSockets);
                try { await next(connection); }
                finally { Interlocked.Decrement(ref self._openSockets); }
            }));
        });
        var app = builder.Build();
        self = new FaultUpstream(app);
        app.MapPost("/{provider}/v1/chat/completions", self.ChatAsync);
        app.MapGet("/{provider}/v1/models", () => Results.Text("""{"object":"list","data":[{"id":"soak-upstream","object":"model"}]}""", "application/json"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self.BaseUrl = new Uri(address);
        return self;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private Fault Draw()
    {
        if (!Chaos) return Fault.None;
        var pick = Random.Shared.Next(MixTotal);
        foreach (var (fault, weight) in Mix)
        {
            if (pick < weight) return fault;
            pick -= weight;
        }

        return Fault.None;
    }

    private async Task ChatAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _runningRequests);
        try
        {
            await HandleAsync(http);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The relay closed the request (a watchdog fired, the client left): nothing more to write.
        }
        finally
        {
            Interlocked.Decrement(ref _runningRequests);
        }
    }

    private async Task HandleAsync(HttpContext http)
    {
        var aborted = http.RequestAborted;
        using var body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: aborted);
        var root = body.RootElement;
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var usage = root.TryGetProperty("stream_options", out var o) && o.TryGetProperty("include_usage", out var u) && u.ValueKind == JsonValueKind.True;
        var marker = root.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString();
        if (!SoakAnswer.TryParseMarker(marker, out var seed, out var count))
        {
            await WriteErrorAsync(http, 400, "invalid_request_error", "not a soak request");
            return;
        }

        var fault = Draw();
        Interlocked.Increment(ref _faults[(int)fault]);
        switch (fault)
        {
            case Fault.ResetBeforeHeaders:
                http.Abort();
                return;
            case Fault.StallBeforeHeaders:
                await Task.Delay(Timeout.Infinite, aborted);
                return;
            case Fault.ServerError:
                await WriteErrorAsync(http, Random.Shared.GetItems([500, 502, 503], 1)[0], "server_error", "injected");
                return;
            case Fault.RateLimited:
                http.Response.Headers.RetryAfter = "1";
                await WriteErrorAsync(http, 429, "rate_limit_exceeded", "injected");
                return;
        }

        if (stream) await StreamAsync(http, fault, seed, count, usage, aborted);
        else await CompleteAsync(http, fault, seed, count, aborted);
    }

    private static async Task StreamAsync(HttpContext http, Fault fault, long seed, int count, bool usage, CancellationToken aborted)
    {
        http.Response.ContentType = "text/event-stream";
        var pipe = http.Response.BodyWriter;
        var id = "chatcmpl-soak" + seed;
        // Faults that cut the answer do it after 1..count-1 content events (0 for a stall: before the first token).
        var cutAt = fault == Fault.StallMidStream ? Random.Shared.Next(0, count) : Random.Shared.Next(1, Math.Max(2, count));
        var paceMs = Random.Shared.Next(5, 30);
        await WriteEventAsync(Chunk(id, role: true, content: "", finish: null));
        for (var i = 0; i < count; i++)
        {
            if (i == cutAt)
            {
                switch (fault)
                {
                    case Fault.ResetAfterHeaders:
                        http.Abort();
                        return;
                    case Fault.StallMidStream:
                        await Task.Delay(Timeout.Infinite, aborted);
                        return;
                    case Fault.EarlyEof:
                        return;
                    case Fault.ErrorEvent:
                        await WriteEventAsync("""{"error":{"message":"injected","type":"server_error","param":null,"code":null}}"""u8.ToArray());
                        return;
                    case Fault.MalformedEvents:
                        await WriteRawAsync("data: {\"choices\":[{\"delta\":\n\n"u8.ToArray());
                        await WriteRawAsync("data: not json at all\n\n"u8.ToArray());
                        break;
                }
            }

            await Task.Delay(paceMs, aborted);
            await WriteEventAsync(Chunk(id, role: false, content: SoakAnswer.Token(seed, i), finish: null));
        }

        await WriteEventAsync(Chunk(id, role: false, content: null, finish: "stop"));
        if (usage) await WriteEventAsync(Usage(id, count));
        await WriteRawAsync("data: [DONE]\n\n"u8.ToArray());
        return;

        Task WriteEventAsync(byte[] json) => WriteRawAsync([.. "data: "u8, .. json, .. "\n\n"u8]);

        async Task WriteRawAsync(byte[] bytes)
        {
            if (fault != Fault.SlowTrickle)
            {
                await pipe.WriteAsync(bytes, aborted);
                return;
            }

            // In pieces of 1..16 bytes, each flushed on its own, with pauses well under the relay's idle-timeout.
            for (var at = 0; at < bytes.Length;)
            {
                var n = Math.Min(bytes.Length - at, Random.Shared.Next(1, 17));
                await pipe.WriteAsync(bytes.AsMemory(at, n), aborted);
                at += n;
                await Task.Delay(Random.Shared.Next(0, 40), aborted);
            }
        }
    }

    private static async Task CompleteAsync(HttpContext http, Fault fault, long seed, int count, CancellationToken aborted)
    {
        var json = Completion("chatcmpl-soak" + seed, SoakAnswer.Text(seed, count), count);
        http.Response.ContentType = "application/json";
        var pipe = http.Response.BodyWriter;
        var half = json.Length / 2;
        switch (fault)
        {
            case Fault.ResetAfterHeaders:
                await pipe.WriteAsync(json.AsMemory(0, half), aborted);
                await Task.Delay(20, aborted);
                http.Abort();
                return;
            case Fault.StallMidStream:
                await pipe.WriteAsync(json.AsMemory(0, half), aborted);
                await Task.Delay(Timeout.Infinite, aborted);
                return;
            case Fault.EarlyEof or Fault.ErrorEvent or Fault.MalformedEvents:
                // A body that ends in the middle of the JSON (chunked encoding, cleanly terminated).
                await pipe.WriteAsync(json.AsMemory(0, half), aborted);
                return;
            case Fault.SlowTrickle:
                for (var at = 0; at < json.Length; at += 64)
                {
                    await pipe.WriteAsync(json.AsMemory(at, Math.Min(64, json.Length - at)), aborted);
                    await Task.Delay(Random.Shared.Next(0, 40), aborted);
                }

                return;
            default:
                await Task.Delay(Random.Shared.Next(5, 50), aborted);
                http.Response.ContentLength = json.Length;
                await pipe.WriteAsync(json, aborted);
                return;
        }
    }

    private static Task WriteErrorAsync(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync($$$"""{"error":{"message":"{{{message}}}","type":"{{{type}}}","param":null,"code":null}}""", http.RequestAborted);
    }

    private static byte[] Chunk(string id, bool role, string? content, string? finish) => Json(w =>
    {
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", 1764000000);
        w.WriteString("model", "soak-upstream");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        if (role) w.WriteString("role", "assistant");
        if (content is not null) w.WriteString("content", content);
        w.WriteEndObject();
        if (finish is null) w.WriteNull("finish_reason");
        else w.WriteString("finish_reason", finish);
        w.WriteEndObject();
        w.WriteEndArray();
    });

    private static byte[] Usage(string id, int count) => Json(w =>
    {
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", 1764000000);
        w.WriteString("model", "soak-upstream");
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, count);
    });

    private static byte[] Completion(string id, string text, int count) => Json(w =>
    {
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", 1764000000);
        w.WriteString("model", "soak-upstream");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", text);
        w.WriteEndObject();
        w.WriteString("finish_reason", "stop");
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, count);
    });

    private static void WriteUsage(Utf8JsonWriter w, int count)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", 5);
        w.WriteNumber("completion_tokens", count);
        w.WriteNumber("total_tokens", 5 + count);
        w.WriteEndObject();
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Writer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
