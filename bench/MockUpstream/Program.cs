using Orchestrator.Bench.MockUpstream;

// The mock upstream: an OpenAI-compatible server with no real work. See bench/README.md for the request fields
// it reads (stream, max_tokens = content chunks, bench_pace_ms = delay between them).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    // A proxy's idle pooled connections to us close soon after a scenario, so the held-streams runs, one target
    // after another, do not stack their upstream sockets past the open-file limit.
    kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(5);
});
var app = builder.Build();
app.MapGet("/v1/models", MockEndpoints.ModelsAsync);
app.MapPost("/v1/chat/completions", MockEndpoints.ChatAsync);
app.Run();
