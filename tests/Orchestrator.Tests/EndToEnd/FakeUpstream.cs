using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// An OpenAI-compatible provider on Kestrel at 127.0.0.1, whose behaviour is chosen by the <c>model</c> it is sent
/// (the route's upstream model), so one instance serves every scenario. It records what reached it.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string Answer = "Hello, world!";
    public static readonly string[] AnswerTokens = ["Hello", ",", " world", "!"];

    /// <summary>The id of the tool call model <c>matrix</c> answers when the request offers tools.</summary>
    public const string ToolCallId = "call_fakeOpenAi0Matrix42";

    /// <summary>The arguments of that call, streamed in two pieces.</summary>
    public const string ToolArguments = """{"city":"Paris"}""";

    /// <summary>
    /// Size of the firehose stream (~100 MB): more than every buffer between it and a client that stops reading,
    /// loopback TCP autotuning included (up to 32 MB of receive buffer on this machine's defaults).
    /// </summary>
    public const int FirehoseEvents = 25_000;

    private readonly WebApplication _app;

    private FakeUpstream(WebApplication app) => _app = app;

    public sealed record Recorded(string? Authorization, JsonElement Body);

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    /// <summary>
    /// Progress of the firehose stream of the request with this "user" field: events written so far, and whether it
    /// wrote its last one. Per request, so a test never sees another test's firehose.
    /// </summary>
    public sealed class FirehoseRun
    {
        private int _written;

        public int Written => Volatile.Read(ref _written);

        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal void OnWritten() => Interlocked.Increment(ref _written);
    }

    private readonly ConcurrentDictionary<string, FirehoseRun> _firehoses = new();

    public FirehoseRun Firehose(string user) => _firehoses.GetOrAdd(user, _ => new FirehoseRun());

    /// <summary>Calls per (model, "user" field): scenarios that fail only a request's first attempt count here.</summary>
    private readonly ConcurrentDictionary<(string?, string?), int> _calls = new();

    public int Calls(string model, string user) => _calls.GetValueOrDefault((model, user));

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _closedByRelay = new();

    /// <summary>
    /// Completes when the relay closes the upstream request with this "user" field while the fake is still
    /// writing or holding it open (an endless or firehose stream, a stream held open after its finish). A request
    /// that ends by itself never completes it.
    /// </summary>
    public Task ClosedByRelay(string user) => ClosedSignal(user).Task;

    private TaskCompletionSource ClosedSignal(string user) =>
        _closedByRelay.GetOrAdd(user, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _resetGates = new();

    /// <summary>Lets the <c>reset-after-2</c> stream of the request with this "user" field reset its connection.</summary>
    public void OpenResetGate(string user) => ResetGate(user).TrySetResult();

    private TaskCompletionSource ResetGate(string user) =>
        _resetGates.GetOrAdd(user, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeUpstream(app);
        app.MapPost("/v1/chat/completions", fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = new Uri(address + "/v1");
        return fake;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
        Requests.Enqueue(new Recorded(http.Request.Headers.Authorization.ToString(), body));
        var model = body.GetProperty("model").GetString();
        var stream = body.TryGetProperty("stream", out var s) && s.GetBoolean();
        // "no-usage": answers as any other model but never sends usage, as some OpenAI-compatible upstreams do.
        var includeUsage = model != "no-usage" && body.TryGetProperty("stream_options", out var o) && o.TryGetProperty("include_usage", out var u) && u.GetBoolean();
        var user = body.TryGetProperty("user", out var userElement) ? userElement.GetString() : null;
        var call = _calls.AddOrUpdate((model, user), 1, (_, n) => n + 1);
        var prefill = Prefill(body);

        switch (model)
        {
            case "fail-500":
                await Error(http, 500, """{"error":{"message":"boom: the server had an error","type":"server_error","code":null}}""");
                break;
            case "fail-401":
                await Error(http, 401, """{"error":{"message":"Incorrect API key provided: sk-upstr***","type":"invalid_request_error","code":"invalid_api_key"}}""");
                break;
            case "fail-400":
                await Error(http, 400, """{"error":{"message":"This model's maximum context length is 10 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""");
                break;
            case "500-once" when call == 1:
                await Error(http, 500, """{"error":{"message":"overloaded","type":"server_error"}}""");
                break;
            case "429-once" when call == 1:
                http.Response.Headers["retry-after-ms"] = "300";
                await Error(http, 429, """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""");
                break;
            case "slow-headers":
                await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted).ContinueWith(_ => { });
                break;
            case "stall-first-token":
                await StartStream(http);
                await Event(http, Chunk(model, "", null, role: true));
                await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted).ContinueWith(_ => { });
                break;
            case "finish-no-done":
                await StartStream(http);
                foreach (var piece in AnswerTokens) await Event(http, Chunk(model, piece, null));
                await Event(http, Chunk(model, null, "stop"));
                break;   // EOF without [DONE]
            case "finish-then-hang":
                await StartStream(http);
                foreach (var piece in AnswerTokens) await Event(http, Chunk(model, piece, null));
                await Event(http, Chunk(model, null, "stop"));
                await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted).ContinueWith(_ => { });
                if (http.RequestAborted.IsCancellationRequested && user is not null) ClosedSignal(user).TrySetResult();
                break;
            case "cut-after-2" or "reset-after-2" or "hang-after-2":
                await StartStream(http);
                await Event(http, Chunk(model, "", null, role: true));
                await Event(http, Chunk(model, AnswerTokens[0], null));
                await Event(http, Chunk(model, AnswerTokens[1], null));
                if (model == "reset-after-2")
                {
                    // With a "user", the reset waits until the test says its client has the two tokens: a reset
                    // (TCP RST) may otherwise take unread bytes with it, and the test could not tell a resume from a retry.
                    if (user is not null) await ResetGate(user).Task.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
                    http.Abort();
                }
                if (model == "hang-after-2") await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted).ContinueWith(_ => { });
                break;   // cut: EOF with no finish_reason
            case "diverge":
                await StartStream(http);
                await Event(http, Chunk(model, "", null, role: true));
                await Event(http, Chunk(model, "Goodbye, moon.", null));
                await Event(http, Chunk(model, null, "stop"));
                await Event(http, "[DONE]");
                break;
            case "prefill-refuse" when prefill is not null:
                await Error(http, 400, """{"error":{"message":"This model does not support assistant message prefill. The conversation must end with a user message.","type":"invalid_request_error","param":"messages","code":null}}""");
                break;
            case "prefill-ok" when prefill is not null && Answer.StartsWith(prefill, StringComparison.Ordinal):
                await StartStream(http);
                await Event(http, Chunk(model, "", null, role: true));
                await Event(http, Chunk(model, Answer[prefill.Length..], null));
                await Event(http, Chunk(model, null, "stop"));
                if (includeUsage)
                    await Event(http, $$$"""{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"{{{model}}}","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13}}""");
                await Event(http, "[DONE]");
                break;
            case "matrix" when OffersTools(body):
                await ToolCallAsync(http, model, stream, includeUsage, FirstToolName(body));
                break;
            case "bad-json-mid-stream":
                await StartStream(http);
                await Event(http, Chunk(model, "Hello", null));
                await Event(http, "{not json");
                await Event(http, Chunk(model, " again", null));
                await Event(http, "[DONE]");
                break;
            case "endless":
                await StartStream(http);
                try
                {
                    for (var i = 0; !http.RequestAborted.IsCancellationRequested; i++)
                    {
                        await Event(http, Chunk(model, $"tick {i} ", null));
                        await Task.Delay(20, http.RequestAborted);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                if (user is not null) ClosedSignal(user).TrySetResult();
                break;
            case "firehose":
                await StartStream(http);
                var token = new string('x', 4000);
                var run = Firehose(user ?? "");
                try
                {
                    for (var i = 0; i < FirehoseEvents; i++)
                    {
                        // Kestrel's writes to an aborted response complete quietly: look at the token itself.
                        http.RequestAborted.ThrowIfCancellationRequested();
                        await Event(http, Chunk(model, token, null));
                        run.OnWritten();
                    }
                    await Event(http, Chunk(model, null, "stop"));
                    await Event(http, "[DONE]");
                    run.Finished.TrySetResult();
                }
                catch (Exception) when (http.RequestAborted.IsCancellationRequested && user is not null)
                {
                    // The relay closed the request before the end.
                    ClosedSignal(user).TrySetResult();
                }
                break;
            default:
                if (!stream)
                {
                    http.Response.ContentType = "application/json";
                    await http.Response.WriteAsync($$$"""
                        {"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"{{{model}}}","system_fingerprint":"fp_fake",
                         "choices":[{"index":0,"message":{"role":"assistant","content":"{{{Answer}}}","refusal":null},"logprobs":null,"finish_reason":"stop"}],
                         "usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}
                        """);
                    break;
                }
                await StartStream(http);
                await Event(http, Chunk(model, "", null, role: true));
                foreach (var token2 in AnswerTokens) await Event(http, Chunk(model, token2, null));
                await Event(http, Chunk(model, null, "stop"));
                if (includeUsage)
                    await Event(http, $$$"""{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"{{{model}}}","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}""");
                await Event(http, "[DONE]");
                break;
        }
    }

    private static bool OffersTools(JsonElement body) =>
        body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;

    private static string FirstToolName(JsonElement body) => body.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString()!;

    /// <summary>One call of the first tool offered, as OpenAI sends one: id, type and name first, the arguments after in pieces.</summary>
    private static async Task ToolCallAsync(HttpContext http, string model, bool stream, bool includeUsage, string name)
    {
        const string usage = """{"prompt_tokens":31,"completion_tokens":7,"total_tokens":38}""";
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync($$$"""
                {"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"{{{model}}}","system_fingerprint":"fp_fake",
                 "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,
                   "tool_calls":[{"id":"{{{ToolCallId}}}","type":"function","function":{"name":"{{{name}}}","arguments":{{{JsonSerializer.Serialize(ToolArguments)}}}}}]},
                   "logprobs":null,"finish_reason":"tool_calls"}],
                 "usage":{{{usage}}}}
                """);
            return;
        }
        var half = ToolArguments.Length / 2;
        string Delta(string delta, string finish = "null") =>
            $$$"""{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"{{{model}}}","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{{{delta}}},"logprobs":null,"finish_reason":{{{finish}}}}]}""";
        await StartStream(http);
        await Event(http, Delta($$$"""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"{{{ToolCallId}}}","type":"function","function":{"name":"{{{name}}}","arguments":""}}],"refusal":null}"""));
        await Event(http, Delta($$$"""{"tool_calls":[{"index":0,"function":{"arguments":{{{JsonSerializer.Serialize(ToolArguments[..half])}}}}}]}"""));
        await Event(http, Delta($$$"""{"tool_calls":[{"index":0,"function":{"arguments":{{{JsonSerializer.Serialize(ToolArguments[half..])}}}}}]}"""));
        await Event(http, Delta("{}", "\"tool_calls\""));
        if (includeUsage)
            await Event(http, $$$"""{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"{{{model}}}","choices":[],"usage":{{{usage}}}}""");
        await Event(http, "[DONE]");
    }

    /// <summary>The content of a trailing assistant message (an assistant prefill), or null.</summary>
    private static string? Prefill(JsonElement body)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.GetArrayLength() == 0) return null;
        var last = messages[messages.GetArrayLength() - 1];
        return last.GetProperty("role").GetString() == "assistant" ? last.GetProperty("content").GetString() : null;
    }

    private static string Chunk(string? model, string? content, string? finish, bool role = false)
    {
        var delta = new Dictionary<string, object?>();
        if (role) delta["role"] = "assistant";
        if (content is not null) delta["content"] = content;
        var chunk = new Dictionary<string, object?>
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion.chunk",
            ["created"] = 1700000000,
            ["model"] = model,
            ["system_fingerprint"] = "fp_fake",
            ["choices"] = new[] { new Dictionary<string, object?> { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish } },
        };
        return JsonSerializer.Serialize(chunk);
    }

    private static Task StartStream(HttpContext http)
    {
        http.Response.ContentType = "text/event-stream";
        return http.Response.Body.FlushAsync();
    }

    private static async Task Event(HttpContext http, string data)
    {
        await http.Response.WriteAsync("data: " + data + "\n\n", Encoding.UTF8);
        await http.Response.Body.FlushAsync();
    }

    private static Task Error(HttpContext http, int status, string json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
