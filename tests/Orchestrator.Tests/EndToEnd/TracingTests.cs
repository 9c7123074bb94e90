using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orchestrator.Actors.Telemetry;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// A request's spans (captured in memory, and exported over OTLP to an in-process collector), and the client's
/// W3C trace context going upstream once per attempt.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TracingTests
{
    private const string Chunk = """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model-2025","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}""";
    private const string Finish = """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model-2025","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""";

    /// <summary>An OpenAI-kind upstream that refuses each request's first call with a 503 and streams on the second, recording traceparent.</summary>
    private static async Task<(WebApplication App, Uri Url, ConcurrentQueue<string[]> TraceParents)> StartUpstreamAsync()
    {
        var traceParents = new ConcurrentQueue<string[]>();
        var calls = 0;
        var (app, url) = await LoopbackApp.StartAsync(app => app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            traceParents.Enqueue([.. http.Request.Headers["traceparent"].Select(v => v!)]);
            if (Interlocked.Increment(ref calls) % 2 == 1)
            {
                http.Response.StatusCode = 503;
                await http.Response.WriteAsync("""{"error":{"message":"busy","type":"server_error"}}""");
                return;
            }
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync($"data: {Chunk}\n\ndata: {Finish}\n\ndata: [DONE]\n\n");
        }));
        return (app, url, traceParents);
    }

    private static string Config(Uri upstream, string extra = "") => $$"""
        orchestrator {
          auth.keys = ["sk-test-client"]
          providers { tel-up { kind = openai, base-url = "{{upstream}}v1", api-key = "none", upstream { retry-base-delay = 10ms, retry-max-delay = 20ms } } }
          models { tel-trace { routes = [ { provider = tel-up, model = up-model } ] } }
          {{extra}}
        }
        """;

    private static async Task<string> StreamAsync(HttpClient client, ActivityTraceId traceId, ActivitySpanId parent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"tel-trace","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{parent}-01");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Trace_RetriedStream_RequestSpanWithAnAttemptSpanEach_TraceparentSentUpstreamOnce()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(OrchestratorTracing.SourceName, "System.Net.Http").AddInMemoryExporter(spans).Build();
        var (upstream, url, traceParents) = await StartUpstreamAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();
        try
        {
            await using (var relay = await RelayHost.StartAsync(Config(url)))
            {
                using var client = relay.Client();
                Assert.EndsWith("data: [DONE]\n\n", await StreamAsync(client, traceId, clientSpan));
            }   // stopped: every session has ended, and its span with it

            Activity[] mine;
            lock (spans) mine = [.. spans.Where(s => s.TraceId == traceId)];
            var front = Assert.Single(mine, s => s.Kind == ActivityKind.Server && s.Source.Name == OrchestratorTracing.SourceName);
            Assert.Equal("chat tel-trace", front.DisplayName);
            Assert.Equal("chat", front.GetTagItem("gen_ai.operation.name"));
            Assert.Equal("tel-trace", front.GetTagItem("gen_ai.request.model"));
            Assert.Equal("tel-up", front.GetTagItem("gen_ai.provider.name"));
            Assert.Contains(front.Events, e => e.Name == "retry");
            Assert.NotEqual(ActivityStatusCode.Error, front.Status);

            var attempts = mine.Where(s => s.Kind == ActivityKind.Client && s.Source.Name == OrchestratorTracing.SourceName).OrderBy(s => s.StartTimeUtc).ToArray();
            Assert.Equal(2, attempts.Length);
            Assert.All(attempts, a =>
            {
                Assert.Equal(front.SpanId, a.ParentSpanId);
                Assert.Equal("chat up-model", a.DisplayName);
                Assert.Equal("up-model", a.GetTagItem("gen_ai.request.model"));
                Assert.Equal("tel-up", a.GetTagItem("gen_ai.provider.name"));
            });
            Assert.Equal("server_error", attempts[0].GetTagItem("error.type"));
            Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
            Assert.Null(attempts[1].GetTagItem("error.type"));

            // Upstream, each attempt carried exactly one traceparent, written by .NET's HTTP client: the client's
            // trace, and the span of the HTTP call it made under the attempt's span.
            var sent = traceParents.ToArray();
            Assert.Equal(2, sent.Length);
            for (var i = 0; i < 2; i++)
            {
                var http = Assert.Single(mine, s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == attempts[i].SpanId);
                Assert.Equal($"00-{traceId}-{http.SpanId}-01", Assert.Single(sent[i]));
            }
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Trace_GeminiKeyInQuery_InNoSpan()
    {
        var key = "AIza-span-" + Guid.NewGuid().ToString("N");
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource("Microsoft.AspNetCore", OrchestratorTracing.SourceName, "System.Net.Http").AddInMemoryExporter(spans).Build();
        await using (var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              auth.keys = ["{{key}}"]
              providers { tel-sim { kind = simulator, token-delay = 0ms, completion-tokens = 2 } }
              models { tel-gemini { routes = [ { provider = tel-sim } ] } }
            }
            """))
        {
            using var client = relay.Client(key: null);
            using var response = await client.PostAsync($"/v1beta/models/tel-gemini:streamGenerateContent?alt=sse&key={key}",
                new StringContent("""{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }

        Activity[] all;
        lock (spans) all = [.. spans];
        Assert.Contains(all, s => s.Source.Name == OrchestratorTracing.SourceName && s.GetTagItem("gen_ai.request.model") as string == "tel-gemini");
        Assert.Contains(all, s => s.Source.Name == "Microsoft.AspNetCore");   // the HTTP server span, which names the URL
        Assert.All(all, s =>
        {
            Assert.DoesNotContain(key, s.DisplayName);
            Assert.DoesNotContain(s.TagObjects, t => t.Value?.ToString()?.Contains(key) == true);
        });
    }

    [Fact]
    public async Task Trace_NoSpansRecorded_ClientTraceStillGoesUpstream()
    {
        var (upstream, url, traceParents) = await StartUpstreamAsync();
        var traceId = ActivityTraceId.CreateRandom();
        try
        {
            await using var relay = await RelayHost.StartAsync(Config(url));
            using var client = relay.Client();
            await StreamAsync(client, traceId, ActivitySpanId.CreateRandom());
            Assert.All(traceParents, sent => Assert.StartsWith($"00-{traceId}-", Assert.Single(sent)));
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Trace_NoClientTraceNoSpansRecorded_NoTraceparentUpstream()
    {
        var (upstream, url, traceParents) = await StartUpstreamAsync();
        try
        {
            await using var relay = await RelayHost.StartAsync(Config(url));
            using var client = relay.Client();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"tel-trace","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("[DONE]", await response.Content.ReadAsStringAsync());
            // Both calls (the 503 and the stream) went without one: the edge's own trace is for its log lines only.
            Assert.Equal(2, traceParents.Count);
            Assert.All(traceParents, Assert.Empty);
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Otlp_EndpointSet_SpansOfTheClientsTraceReachTheCollector()
    {
        var posts = new ConcurrentQueue<(string? ContentType, byte[] Body)>();
        var (collector, collectorUrl) = await LoopbackApp.StartAsync(app => app.MapPost("/v1/traces", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            posts.Enqueue((http.Request.ContentType, body.ToArray()));
        }));
        var (upstream, url, _) = await StartUpstreamAsync();
        var traceId = ActivityTraceId.CreateRandom();
        try
        {
            await using (var relay = await RelayHost.StartAsync(Config(url, $$"""telemetry { otlp-endpoint = "{{collectorUrl}}", otlp-protocol = "http/protobuf" }""")))
            {
                using var client = relay.Client();
                await StreamAsync(client, traceId, ActivitySpanId.CreateRandom());
            }   // stopping the host flushes its exporter

            Span<byte> id = stackalloc byte[16];
            traceId.CopyTo(id);
            var idBytes = id.ToArray();
            Assert.Contains(posts, post => post.ContentType == "application/x-protobuf" && post.Body.AsSpan().IndexOf(idBytes) >= 0);
        }
        finally
        {
            await upstream.DisposeAsync();
            await collector.DisposeAsync();
        }
    }
}
