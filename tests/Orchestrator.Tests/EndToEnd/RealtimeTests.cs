using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The WebSocket front over real loopback sockets.</summary>
[Collection(RelayCollection.Name)]
public sealed class RealtimeTests(RelayFixture fixture)
{
    private Uri Relay => fixture.Relay.BaseUrl;

    private static string Create(string id, string model, string prompt = "Say hello", string extra = "") =>
        $$"""{"type":"chat.completions.create","id":"{{id}}","model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}]{{extra}}}""";

    private async Task<string> HttpAnswerAsync(string model, string prompt)
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}]}""", Encoding.UTF8, "application/json"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    [Fact]
    public async Task Realtime_StreamedAnswer_ChunkEventsThenDoneWithUsage()
    {
        await using var socket = await TestSocket.ConnectAsync(Relay);
        await socket.SendAsync(Create("a1", "sim"));
        var events = (await socket.ReadUntilDoneAsync(["a1"]))["a1"];

        Assert.All(events[..^1], e => Assert.Equal("chat.completions.chunk", e.GetProperty("type").GetString()));
        Assert.Equal("chat.completion.chunk", events[0].GetProperty("chunk").GetProperty("object").GetString());
        var done = events[^1];
        Assert.Equal("chat.completions.done", done.GetProperty("type").GetString());
        Assert.Equal("stop", done.GetProperty("finish_reason").GetString());
        Assert.Equal(12, done.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(await HttpAnswerAsync("sim", "Say hello"), TestSocket.Text(events));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(100)]
    public async Task Realtime_InterleavedRequests_EachGetsExactlyItsOwnText(int count)
    {
        var prompts = Enumerable.Range(0, count).ToDictionary(i => $"r{i}", i => $"Question number {i}");
        var expected = new Dictionary<string, string>();
        foreach (var (id, prompt) in prompts) expected[id] = await HttpAnswerAsync("sim", prompt);

        await using var socket = await TestSocket.ConnectAsync(Relay);
        foreach (var (id, prompt) in prompts) await socket.SendAsync(Create(id, "sim", prompt));
        var events = await socket.ReadUntilDoneAsync(prompts.Keys, TimeSpan.FromSeconds(60));

        foreach (var id in prompts.Keys)
        {
            Assert.Equal("chat.completions.done", events[id][^1].GetProperty("type").GetString());
            Assert.Equal(expected[id], TestSocket.Text(events[id]));
        }
    }

    [Fact]
    public async Task Realtime_NoClientId_ServerAssignsOneAndUsesItInEveryEvent()
    {
        await using var socket = await TestSocket.ConnectAsync(Relay);
        await socket.SendAsync("""{"type":"chat.completions.create","model":"sim","messages":[{"role":"user","content":"hi"}]}""");
        var first = (await socket.ReceiveAsync())!.Value;
        var id = first.GetProperty("id").GetString()!;
        Assert.False(string.IsNullOrEmpty(id));
        var rest = (await socket.ReadUntilDoneAsync([id]))[id];
        Assert.Equal("chat.completions.done", rest[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Realtime_DefaultModelFromQuery_IsUsedWhenTheRequestNamesNone()
    {
        await using var socket = await TestSocket.ConnectAsync(Relay, query: "model=sim");
        await socket.SendAsync("""{"type":"chat.completions.create","id":"m1","messages":[{"role":"user","content":"Say hello"}]}""");
        var events = (await socket.ReadUntilDoneAsync(["m1"]))["m1"];
        Assert.Equal(await HttpAnswerAsync("sim", "Say hello"), TestSocket.Text(events));
    }

    [Fact]
    public async Task Realtime_Cancel_StopsTheRequestAndClosesItsUpstream()
    {
        var user = Guid.NewGuid().ToString("N");
        await using var socket = await TestSocket.ConnectAsync(Relay);
        await socket.SendAsync(Create("c1", "endless", extra: $$""","user":"{{user}}" """));
        var first = (await socket.ReceiveAsync())!.Value;
        Assert.Equal("chat.completions.chunk", first.GetProperty("type").GetString());

        await socket.SendAsync("""{"type":"chat.completions.cancel","id":"c1"}""");
        var events = (await socket.ReadUntilDoneAsync(["c1"]))["c1"];
        Assert.Equal("cancelled", events[^1].GetProperty("finish_reason").GetString());
        await fixture.Upstream.ClosedByRelay(user).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("{not json", null, "invalid_json")]
    [InlineData("""{"type":"chat.completions.explode","id":"x1"}""", "x1", "unknown_type")]
    [InlineData("""{"id":"x2","model":"sim"}""", "x2", "missing_required_parameter")]
    [InlineData("""{"type":"chat.completions.create","id":"x3","model":"sim"}""", "x3", "missing_required_parameter")]
    [InlineData("""{"type":"chat.completions.create","id":"x4","model":"no-such-model","messages":[{"role":"user","content":"hi"}]}""", "x4", "model_not_found")]
    public async Task Realtime_BadMessage_GetsAnErrorEventAndTheSocketStaysUsable(string message, string? id, string code)
    {
        await using var socket = await TestSocket.ConnectAsync(Relay);
        await socket.SendAsync(message);
        var error = (await socket.ReceiveAsync())!.Value;
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal(id, error.GetProperty("id").GetString());
        Assert.Equal(code, error.GetProperty("error").GetProperty("code").GetString());

        await socket.SendAsync(Create("ok", "sim"));
        Assert.Equal("chat.completions.done", (await socket.ReadUntilDoneAsync(["ok"]))["ok"][^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Realtime_BinaryFrame_GetsAnErrorEvent()
    {
        await using var socket = await TestSocket.ConnectAsync(Relay);
        await socket.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var error = (await socket.ReceiveAsync())!.Value;
        Assert.Equal("binary_not_supported", error.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Realtime_MessageOverTheLimit_ClosesWith1009()
    {
        await using var socket = await TestSocket.ConnectAsync(Relay);
        await socket.SendAsync(Create("big", "sim", new string('x', 70_000)));   // max-message-bytes = 65536 here
        Assert.Null(await socket.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.Socket.CloseStatus);
    }

    [Fact]
    public async Task Realtime_KeyInQueryOrSubprotocol_IsAcceptedAndOnlyTheProtocolNameIsEchoed()
    {
        await using (var byQuery = await TestSocket.ConnectAsync(Relay, query: "api_key=" + RelayFixture.ClientKey, bearer: null))
        {
            await byQuery.SendAsync(Create("q", "sim"));
            Assert.Equal("chat.completions.done", (await byQuery.ReadUntilDoneAsync(["q"]))["q"][^1].GetProperty("type").GetString());
        }
        await using var byProtocol = await TestSocket.ConnectAsync(Relay, bearer: null, protocols: ["orchestrator.v1", "openai-insecure-api-key." + RelayFixture.ClientKey]);
        Assert.Equal("orchestrator.v1", byProtocol.Socket.SubProtocol);
        await byProtocol.SendAsync(Create("p", "sim"));
        Assert.Equal("chat.completions.done", (await byProtocol.ReadUntilDoneAsync(["p"]))["p"][^1].GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    public async Task Realtime_BadKey_FailsTheUpgradeWith401AndAnOpenAiError(string? key)
    {
        using var client = new HttpClient { BaseAddress = Relay };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/realtime");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        if (key is not null) request.Headers.Authorization = new("Bearer", key);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ChatCompletionsTests.ErrorOf(response);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.DoesNotContain("sk-wrong", error.GetRawText());
    }

    [Fact]
    public async Task Realtime_ServerPingsWithinHeartbeatInterval_AndAClientThatNeverPongsIsClosedWithItsUpstream()
    {
        var user = Guid.NewGuid().ToString("N");
        using var tcp = new TcpClient();
        var stream = await RawWebSocket.HandshakeAsync(tcp, Relay);
        await stream.WriteAsync(RawWebSocket.MaskedText(Create("h1", "endless", extra: $$""","user":"{{user}}" """)));

        // Read frames (never answering): a ping (opcode 9) must come within heartbeat-interval (300 ms here).
        var sawPing = false;
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var pending = new List<byte>();
        while (!sawPing)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, "the server closed before it pinged");
            pending.AddRange(buffer.AsSpan(0, read).ToArray());
            while (RawWebSocket.TryTakeFrame(pending, out var opcode, out _))
                if (opcode == 0x9) sawPing = true;
        }

        // No pong ever: within heartbeat-timeout the server gives up on us, and the upstream stream is closed.
        await fixture.Upstream.ClosedByRelay(user).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Realtime_ClientNotReading_RequestFailsWithSlowConsumerAndItsUpstreamCloses()
    {
        // Its own host: pongs are given a long time here, so send-timeout is what ends the request.
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{RelayFixture.ClientKey}}"]
              realtime { heartbeat-timeout = 60s, send-buffer-frames = 4, send-timeout = 1s }
              providers { fake { kind = openai, base-url = "{{fixture.Upstream.BaseUrl}}", api-key = "sk-x" } }
              models { "firehose" { routes = [ { provider = fake, model = "firehose" } ] } }
            }
            """);
        var user = Guid.NewGuid().ToString("N");
        await using var socket = await TestSocket.ConnectAsync(relay.BaseUrl);
        await socket.SendAsync(Create("f1", "firehose", extra: $$""","user":"{{user}}" """));

        // Not reading: the socket's queue and the TCP buffers fill, and after send-timeout the request is stopped
        // and its upstream closed, rather than buffered without bound.
        await fixture.Upstream.ClosedByRelay(user).WaitAsync(TimeSpan.FromSeconds(30));

        var events = (await socket.ReadUntilDoneAsync(["f1"], TimeSpan.FromSeconds(60)))["f1"];
        Assert.Equal("slow_consumer", events[^1].GetProperty("error").GetProperty("code").GetString());
    }
}
