using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// <c>/v1/responses</c> onto an openai-kind provider with <c>responses = on</c>: the request reaches the provider's
/// own <c>/responses</c> as the client wrote it, and the answer comes back as the provider sent it, byte for byte.
/// </summary>
public sealed class ResponsesNativeTests : IAsyncLifetime
{
    private const string UpstreamKey = "sk-upstream-native-secret";

    // What the scripted upstream streams: the documented events and one this relay has never heard of.
    private static readonly string Events = string.Concat(
        Event("""{"type":"response.created","sequence_number":0,"response":{"id":"resp_up","object":"response","status":"in_progress","model":"up-model","output":[]}}"""),
        Event("""{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"ws_1","type":"web_search_call","status":"in_progress"}}"""),
        Event("""{"type":"response.web_search_call.completed","sequence_number":2,"output_index":0,"item_id":"ws_1"}"""),
        Event("""{"type":"response.output_item.added","sequence_number":3,"output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","status":"in_progress","content":[]}}"""),
        Event("""{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hello from upstream"}"""),
        Event("""{"type":"response.future_event_kind","sequence_number":5,"payload":{"x":1}}"""),
        Event("""{"type":"response.completed","sequence_number":6,"response":{"id":"resp_up","object":"response","status":"completed","model":"up-model","output":[],"usage":{"input_tokens":11,"input_tokens_details":{"cached_tokens":8},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":15}}}"""));

    private const string WholeResponse = """{"id":"resp_whole","object":"response","status":"completed","model":"up-model","output":[{"id":"msg_2","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"whole","annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":1,"total_tokens":6},"upstream_extra":{"kept":true}}""";

    private static string Event(string json) => $"event: {JsonDocument.Parse(json).RootElement.GetProperty("type").GetString()}\ndata: {json}\n\n";

    private readonly ConcurrentQueue<(string Path, IHeaderDictionary Headers, string Body)> _recorded = new();
    private WebApplication _upstream = null!;
    private RelayHost _relay = null!;

    public async Task InitializeAsync()
    {
        Uri url;
        (_upstream, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/v1/models", () => Results.Json(new { data = Array.Empty<object>() }));
            app.MapPost("/v1/responses", async http =>
            {
                var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
                _recorded.Enqueue((http.Request.Path, new HeaderDictionary(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
                if (JsonDocument.Parse(body).RootElement.GetProperty("stream").GetBoolean())
                {
                    http.Response.ContentType = "text/event-stream";
                    // In pieces, split inside events: the relay frames them again.
                    var bytes = Encoding.UTF8.GetBytes(Events);
                    for (var at = 0; at < bytes.Length; at += 97)
                    {
                        await http.Response.Body.WriteAsync(bytes.AsMemory(at, Math.Min(97, bytes.Length - at)));
                        await http.Response.Body.FlushAsync();
                    }
                    return;
                }
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(WholeResponse);
            });
            app.MapPost("/fail/v1/responses", async http =>
            {
                var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
                _recorded.Enqueue((http.Request.Path, new HeaderDictionary(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
                http.Response.ContentType = "text/event-stream";
                await http.Response.WriteAsync(string.Concat(
                    Event("""{"type":"response.created","sequence_number":0,"response":{"id":"resp_fail","object":"response","status":"in_progress","output":[]}}"""),
                    Event("""{"type":"response.failed","sequence_number":1,"response":{"id":"resp_fail","status":"failed","error":{"code":"server_error","message":"upstream broke"}}}""")));
            });
            app.MapPost("/v1/chat/completions", async http =>
            {
                var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
                _recorded.Enqueue((http.Request.Path, new HeaderDictionary(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
                if (JsonDocument.Parse(body).RootElement.TryGetProperty("stream", out var stream) && stream.GetBoolean())
                {
                    http.Response.ContentType = "text/event-stream";
                    await http.Response.WriteAsync(
                        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"chat answer\"},\"finish_reason\":null}]}\n\n" +
                        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
                        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n" +
                        "data: [DONE]\n\n");
                    return;
                }
                await http.Response.WriteAsJsonAsync(new
                {
                    id = "chatcmpl-1", @object = "chat.completion", created = 1, model = "up-model",
                    choices = new[] { new { index = 0, message = new { role = "assistant", content = "chat answer" }, finish_reason = "stop" } },
                    usage = new { prompt_tokens = 3, completion_tokens = 2, total_tokens = 5 },
                });
            });
        });
        _relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["{{RelayFixture.ClientKey}}"]
              model-defaults { first-byte-timeout = 5s, first-token-timeout = 5s, idle-timeout = 5s }
              providers {
                native { kind = openai, responses = on, base-url = "{{new Uri(url, "/v1")}}", api-key = "{{UpstreamKey}}" }
                chat   { kind = openai, base-url = "{{new Uri(url, "/v1")}}", api-key = "{{UpstreamKey}}" }
                broken { kind = openai, responses = on, base-url = "{{new Uri(url, "/fail/v1")}}", api-key = "{{UpstreamKey}}" }
              }
              models {
                "codex-model" { routes = [ { provider = native, model = "up-model" } ] }
                "mixed-model" { routes = [ { provider = chat, model = "up-model" }, { provider = native, model = "up-model" } ] }
                "chat-model"  { routes = [ { provider = chat, model = "up-model" } ] }
                "fallback-model" { routes = [ { provider = broken, model = "up-model" }, { provider = chat, model = "up-model" } ] }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private const string CodexLikeRequest = """
        {"model":"codex-model","stream":true,"store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"pck-1",
         "client_metadata":{"turn_id":"t-1"},"reasoning":{"effort":"low","summary":"auto","context":"all_turns"},"text":{"verbosity":"low"},
         "tools":[{"type":"web_search"},{"type":"namespace","name":"ns","tools":[{"type":"function","name":"f"}]}],
         "input":[{"type":"additional_tools","tools":[{"type":"custom","name":"exec"}]},
                  {"type":"reasoning","summary":[],"encrypted_content":"gAAAA-openai-only"},
                  {"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]}
        """;

    private async Task<HttpResponseMessage> PostAsync(string path, string json, string? beta = null)
    {
        using var client = _relay.Client();
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (beta is not null) request.Headers.Add("OpenAI-Beta", beta);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Streamed_TheClientGetsTheUpstreamsEventsAsTheyCame_AndTheUpstreamTheRequestAsItWasWritten()
    {
        using var response = await PostAsync("/v1/responses", CodexLikeRequest, beta: "responses=experimental");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(Events, body);
        Assert.False(response.Headers.Contains("x-orchestrator-dropped"));   // nothing was: the upstream read the request as it came
        Assert.Equal("native", response.Headers.GetValues("x-orchestrator-provider").Single());

        var (path, headers, sent) = Assert.Single(_recorded);
        Assert.Equal("/v1/responses", path);
        Assert.Equal($"Bearer {UpstreamKey}", headers.Authorization.ToString());
        Assert.Equal("responses=experimental", headers["OpenAI-Beta"].ToString());
        var expected = JsonDocument.Parse(CodexLikeRequest).RootElement;
        var actual = JsonDocument.Parse(sent).RootElement;
        Assert.Equal("up-model", actual.GetProperty("model").GetString());
        Assert.True(actual.GetProperty("stream").GetBoolean());
        foreach (var field in expected.EnumerateObject().Where(f => f.Name is not ("model" or "stream")))
            Assert.Equal(JsonSerializer.Serialize(field.Value), JsonSerializer.Serialize(actual.GetProperty(field.Name)));
    }

    [Fact]
    public async Task Whole_TheClientGetsTheUpstreamsResponseObjectAsItCame()
    {
        using var response = await PostAsync("/v1/responses", CodexLikeRequest.Replace("\"stream\":true", "\"stream\":false"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WholeResponse, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChatClient_OnTheSameProvider_StillGoesToChatCompletions()
    {
        using var response = await PostAsync("/v1/chat/completions", """{"model":"codex-model","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("chat answer", await response.Content.ReadAsStringAsync());
        Assert.Equal("/v1/chat/completions", Assert.Single(_recorded).Path);
    }

    [Fact]
    public async Task PreviousResponseId_GoesOnlyToANativeRoute_AndIsRefusedWhereThereIsNone()
    {
        const string json = """{"model":"MODEL","stream":false,"store":true,"previous_response_id":"resp_prev","input":"and then?"}""";
        using (var response = await PostAsync("/v1/responses", json.Replace("MODEL", "mixed-model")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("native", response.Headers.GetValues("x-orchestrator-provider").Single());   // the chat route was skipped
            var (path, _, sent) = Assert.Single(_recorded);
            Assert.Equal("/v1/responses", path);
            Assert.Equal("resp_prev", JsonDocument.Parse(sent).RootElement.GetProperty("previous_response_id").GetString());
        }
        using (var response = await PostAsync("/v1/responses", json.Replace("MODEL", "chat-model")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("previous_response_id", error.GetProperty("param").GetString());
            Assert.Contains("stateless", error.GetProperty("message").GetString());
            Assert.Single(_recorded);   // nothing went upstream
        }
    }

    [Fact]
    public async Task NativeAttemptFailing_FallsBackToAChatRoute_AndTheClientsStreamStaysOneResponse()
    {
        using var response = await PostAsync("/v1/responses", CodexLikeRequest.Replace("codex-model", "fallback-model"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => !e.StartsWith(':'))
            .Select(e => JsonDocument.Parse(e.Split('\n').Single(l => l.StartsWith("data: "))["data: ".Length..]).RootElement).ToList();
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.DoesNotContain("response.failed", types);   // the failed attempt's failure is the relay's to handle, not the client's
        Assert.Equal(1, types.Count(t => t == "response.created"));
        Assert.Equal("response.completed", types[^1]);
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "response.output_text.delta" && e.GetProperty("delta").GetString() == "chat answer");
        var sequence = events.Select(e => e.GetProperty("sequence_number").GetInt32()).ToList();
        Assert.Equal(sequence.Order(), sequence);
        Assert.Equal(sequence.Count, sequence.Distinct().Count());
        var paths = _recorded.Select(r => r.Path.ToString()).ToList();
        Assert.Equal("/v1/chat/completions", paths[^1]);   // after the broken route's retries
        Assert.All(paths[..^1], path => Assert.Equal("/fail/v1/responses", path));
    }
}
