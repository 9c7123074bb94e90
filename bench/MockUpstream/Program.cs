using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Orchestrator.Bench.MockUpstream;

// The mock upstream: an OpenAI-compatible server with no real work. See bench/README.md for the request fields
// it reads (stream, max_tokens = content chunks, bench_pace_ms = delay between them).
//   --urls http://127.0.0.1:P        HTTP/1.1 (as a relay's plain-http pool speaks it)
//   --h2-urls http://127.0.0.1:Q     HTTP/2 only, cleartext (h2c with prior knowledge)
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    // A proxy's idle pooled connections to us close soon after a scenario, so the held-streams runs, one target
    // after another, do not stack their upstream sockets past the open-file limit.
    kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(5);
    // Streams per HTTP/2 connection (Kestrel's default is 100): 10,000 held streams fit in ten sockets.
    kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
    // Endpoints set in code replace --urls, so both lists are bound here.
    foreach (var url in Urls(builder.Configuration["urls"] ?? "http://127.0.0.1:5000")) kestrel.Listen(url);
    foreach (var url in Urls(builder.Configuration["h2-urls"] ?? "")) kestrel.Listen(url, listen => listen.Protocols = HttpProtocols.Http2);
});
var app = builder.Build();
app.MapGet("/v1/models", MockEndpoints.ModelsAsync);
app.MapPost("/v1/chat/completions", MockEndpoints.ChatAsync);
app.MapPost("/v1/messages", MockEndpoints.MessagesAsync);
app.Run();

static IEnumerable<IPEndPoint> Urls(string list) =>
    list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(url => new Uri(url))
        .Select(uri => new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port));
