using Orchestrator.Bench.MockUpstream;

// The mock upstream: an OpenAI-compatible server with no real work. See bench/README.md for the request fields
// it reads (stream, max_tokens = content chunks, bench_pace_ms = delay between them).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
var app = builder.Build();
app.MapGet("/v1/models", MockEndpoints.ModelsAsync);
app.MapPost("/v1/chat/completions", MockEndpoints.ChatAsync);
app.Run();
