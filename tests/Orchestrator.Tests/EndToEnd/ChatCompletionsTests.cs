using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

[Collection(RelayCollection.Name)]
public sealed class ChatCompletionsTests(RelayFixture fixture)
{
    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Request(string model, bool stream, string extra = "") =>
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say hello"}]{{extra}}}""";

    [Fact]
    public async Task Stream_FromOpenAiUpstream_RelaysEveryChunkThenDone()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("relay", stream: true)));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", body);
        var lines = Sse.DataLines(body);
        Assert.Equal(FakeUpstream.AnswerTokens.Length + 3, lines.Count);   // role, tokens, finish, [DONE]
        Assert.Equal(FakeUpstream.Answer, Sse.Text(lines));
        using var last = JsonDocument.Parse(lines[^2]);
        Assert.Equal("stop", last.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        // Fields we do not model pass through untouched.
        Assert.Equal("fp_fake", last.RootElement.GetProperty("system_fingerprint").GetString());
        Assert.Equal("fake", response.Headers.GetValues("x-orchestrator-provider").Single());
    }

    [Fact]
    public async Task Stream_IncludeUsage_EndsWithUsageChunk()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions",
            Body(Request("relay", stream: true, ""","stream_options":{"include_usage":true}""")));
        var lines = Sse.DataLines(await response.Content.ReadAsStringAsync());

        using var usage = JsonDocument.Parse(lines[^2]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(13, usage.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Request_SentUpstream_CarriesProviderKeyRouteModelAndUnknownFields()
    {
        using var client = fixture.Relay.Client();
        var marker = Guid.NewGuid().ToString("N");
        using var response = await client.PostAsync("/v1/chat/completions",
            Body(Request("relay", stream: false, $$""","temperature":0.25,"x_custom":{"marker":"{{marker}}","n":[1,2]}""")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var sent = fixture.Upstream.Requests.Single(r => r.Body.TryGetProperty("x_custom", out var c) && c.GetProperty("marker").GetString() == marker);
        Assert.Equal($"Bearer {RelayFixture.UpstreamKey}", sent.Authorization);
        Assert.DoesNotContain(RelayFixture.ClientKey, sent.Body.GetRawText());
        Assert.Equal("upstream-ok", sent.Body.GetProperty("model").GetString());
        Assert.Equal(0.25, sent.Body.GetProperty("temperature").GetDouble());
        Assert.Equal("[1,2]", sent.Body.GetProperty("x_custom").GetProperty("n").GetRawText());
        Assert.Equal("Say hello", sent.Body.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task NonStream_FromOpenAiUpstream_ReturnsCompletionWithUsage()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("relay", stream: false)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal(FakeUpstream.Answer, root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(13, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("fp_fake", root.GetProperty("system_fingerprint").GetString());
    }

    [Fact]
    public async Task Simulator_Stream_AnswersWithUsageWhenAsked()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions",
            Body(Request("sim", stream: true, ""","stream_options":{"include_usage":true}""")));
        var body = await response.Content.ReadAsStringAsync();
        var lines = Sse.DataLines(body);

        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.Equal(12, Sse.Text(lines).Split(' ').Length);
        using var usage = JsonDocument.Parse(lines[^2]);
        Assert.Equal(12, usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Simulator_Stream_WithoutIncludeUsage_SendsNoUsageChunk()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("sim", stream: true)));
        var lines = Sse.DataLines(await response.Content.ReadAsStringAsync());
        Assert.All(lines.Where(l => l != "[DONE]"), l => Assert.DoesNotContain("\"usage\"", l));
    }

    [Fact]
    public async Task Simulator_MaxTokens_StopsWithLength()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("sim", stream: false, ""","max_tokens":3""")));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Fallback_FirstRouteFails_SecondRouteAnswers()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("fallback", stream: true)));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(Sse.DataLines(body)));
        Assert.Equal("fake2", response.Headers.GetValues("x-orchestrator-provider").Single());
    }

    [Fact]
    public async Task Fallback_UpstreamRejectsItsKey_NextRouteAnswersAndNoKeyLeaks()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("bad-key", stream: false)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("sim", response.Headers.GetValues("x-orchestrator-provider").Single());
    }

    [Fact]
    public async Task AllRoutesFail_Returns502NamingEachProvider()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("all-fail", stream: true)));
        var error = await ErrorOf(response);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("fake (fail-500): HTTP 500", message);
        Assert.Contains("dead (gone): transport error", message);
        Assert.DoesNotContain("boom", message);   // a provider's server error text is summarised, not relayed
    }

    [Fact]
    public async Task NoProviderAvailable_Returns503()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("no-provider", stream: false)));
        var error = await ErrorOf(response);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no_provider_available", error.GetProperty("code").GetString());
        Assert.Contains("nokey", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task CallerFault_IsReturnedWithProviderReasonNotRetriedElsewhere()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("caller-fault", stream: true)));
        var error = await ErrorOf(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("maximum context length", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task BrokenChunkMidStream_IsSkippedAndTheStreamGoesOn()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("broken", stream: true)));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello again", Sse.Text(Sse.DataLines(body)));
        Assert.EndsWith("data: [DONE]\n\n", body);
    }

    [Fact]
    public async Task BrokenChunkMidStream_OtherStreamsUnaffected()
    {
        using var client = fixture.Relay.Client();
        var broken = client.PostAsync("/v1/chat/completions", Body(Request("broken", stream: true)));
        var healthy = Enumerable.Range(0, 5).Select(_ => client.PostAsync("/v1/chat/completions", Body(Request("relay", stream: true)))).ToList();
        using var brokenResponse = await broken;
        foreach (var task in healthy)
        {
            using var response = await task;
            var body = await response.Content.ReadAsStringAsync();
            Assert.EndsWith("data: [DONE]\n\n", body);
            Assert.Equal(FakeUpstream.Answer, Sse.Text(Sse.DataLines(body)));
        }
    }

    [Fact]
    public async Task ClientDisconnect_ClosesTheUpstreamRequest()
    {
        using var client = fixture.Relay.Client();
        var user = Guid.NewGuid().ToString("N");   // this request's own signal, not any earlier test's endless stream
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(Request("endless", stream: true, $$""","user":"{{user}}" """)) };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[64];
        Assert.True(await stream.ReadAsync(first) > 0);

        response.Dispose();   // the client goes away mid-stream

        await fixture.Upstream.ClosedByRelay(user).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SlowClient_SlowsTheUpstreamRead_ThenReceivesEverything()
    {
        // A fixed, small receive buffer: the kernel would otherwise autotune it to tens of MB on loopback.
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024 };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = fixture.Relay.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", RelayFixture.ClientKey);
        var user = Guid.NewGuid().ToString("N");
        var firehose = fixture.Upstream.Firehose(user);   // this request's progress only
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(Request("firehose", stream: true, $$""","user":"{{user}}" """)) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[8192];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        // The client stops reading: ~100 MB cannot fit in the socket buffers and the relay's bounded stages, so
        // the upstream must be held back rather than read into the relay's memory.
        var finished = await Task.WhenAny(firehose.Finished.Task, Task.Delay(TimeSpan.FromSeconds(2)));
        Assert.NotSame(firehose.Finished.Task, finished);
        Assert.True(firehose.Written < FakeUpstream.FirehoseEvents / 2,
            $"the upstream wrote {firehose.Written} of {FakeUpstream.FirehoseEvents} events to a client that read 8 KB");

        // Reading again drains everything, in order and whole.
        long total = 0;
        int read;
        var tail = Array.Empty<byte>();   // the last bytes on the wire
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
            tail = [.. tail, .. buffer.AsSpan(0, read)];
            if (tail.Length > 256) tail = tail[^256..];
        }
        await firehose.Finished.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FakeUpstream.FirehoseEvents, firehose.Written);
        Assert.True(total > FakeUpstream.FirehoseEvents * 4000L, $"received {total} bytes, ending {Encoding.UTF8.GetString(tail)}");
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(tail));
    }

    [Fact]
    public async Task UnknownModel_Returns404WithClosestIds()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(Request("relai", stream: false)));
        var error = await ErrorOf(response);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Contains("relay", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{\"model\":\"relay\",", "invalid_json", null)]
    [InlineData("[1,2]", "invalid_json", null)]
    [InlineData("", "invalid_json", null)]
    [InlineData("{\"model\":\"relay\"}", "missing_required_parameter", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "missing_required_parameter", "model")]
    [InlineData("{\"model\":\"relay\",\"messages\":[]}", "empty_array", "messages")]
    [InlineData("{\"model\":\"relay\",\"messages\":\"hi\"}", "invalid_type", "messages")]
    [InlineData("{\"model\":\"relay\",\"messages\":[{\"content\":\"hi\"}]}", "missing_required_parameter", "messages[0].role")]
    [InlineData("{\"model\":\"relay\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "invalid_type", "stream")]
    [InlineData("{\"model\":\"relay\",\"max_tokens\":-1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "invalid_type", "max_tokens")]
    public async Task BadBody_Returns400NamingTheField(string body, string code, string? param)
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(body));
        var error = await ErrorOf(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        if (param is not null) Assert.Contains(param, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task UnknownUrl_Returns404InOpenAiShape()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.GetAsync("/v1/nothing-here");
        var error = await ErrorOf(response);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_url", error.GetProperty("code").GetString());
    }

    internal static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = json.GetProperty("error");
        foreach (var field in new[] { "message", "type", "param", "code" }) Assert.True(error.TryGetProperty(field, out _), $"error.{field} is missing");
        return error;
    }
}
