using System.Net;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Tests.Dialects.Anthropic;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The bytes of <c>/v1/messages</c> on the wire, over a real socket, answered by the simulator.</summary>
[Collection(RelayCollection.Name)]
public sealed class MessagesFrontTests(RelayFixture fixture)
{
    private const string Hello = """{"model":"sim","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Say hello"}]}""";

    private static HttpRequestMessage Post(string body, string path = "/v1/messages", string? fault = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("anthropic-version", "2099-01-01");   // any version is accepted
        if (fault is not null) request.Headers.Add("x-simulator-fault", fault);
        return request;
    }

    private HttpClient ApiKeyClient(string key)
    {
        var client = fixture.Relay.Client(key: null);
        client.DefaultRequestHeaders.Add("x-api-key", key);
        return client;
    }

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        return root.GetProperty("error");
    }

    /// <summary>SSE events in order; comments (the keep-alive before message_start) left out.</summary>
    private static List<MessagesEncoderTests.SseEvent> Events(string body) =>
        MessagesEncoderTests.Parse(string.Join("", body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => !e.StartsWith(':')).Select(e => e + "\n\n")));

    private static void AssertEveryBlockClosedAndMessageStopLast(List<MessagesEncoderTests.SseEvent> events)
    {
        Assert.Equal("message_start", events[0].Name);
        var open = new HashSet<int>();
        foreach (var e in events)
        {
            if (e.Name == "content_block_start") Assert.True(open.Add((int)e.Data["index"]!));
            if (e.Name == "content_block_stop") Assert.True(open.Remove((int)e.Data["index"]!));
        }
        Assert.Empty(open);
        Assert.Equal("message_delta", events[^2].Name);
        Assert.Equal("message_stop", events[^1].Name);
    }

    [Fact]
    public async Task Messages_Streamed_EveryBlockClosedAndMessageStopLast()
    {
        using var client = ApiKeyClient(RelayFixture.ClientKey);
        using var response = await client.SendAsync(Post(Hello));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Events(await response.Content.ReadAsStringAsync());
        AssertEveryBlockClosedAndMessageStopLast(events);
        Assert.Contains(events, e => e.Name == "content_block_delta" && (string?)e.Data["delta"]!["type"] == "text_delta");
        Assert.Equal("end_turn", (string?)events[^2].Data["delta"]!["stop_reason"]);
        Assert.True((int)events[0].Data["message"]!["usage"]!["input_tokens"]! > 0);
    }

    [Fact]
    public async Task Messages_StreamedToolCall_IsAWellFormedToolUseBlock()
    {
        const string body = """
            {"model":"sim","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Weather?"}],
             "tools":[{"name":"now","description":"The time","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"any"}}
            """;
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(body));
        var events = Events(await response.Content.ReadAsStringAsync());
        AssertEveryBlockClosedAndMessageStopLast(events);
        var start = Assert.Single(events, e => e.Name == "content_block_start");
        Assert.Equal("tool_use", (string?)start.Data["content_block"]!["type"]);
        Assert.Equal("{}", start.Data["content_block"]!["input"]!.ToJsonString());
        var json = events.Where(e => e.Name == "content_block_delta").Select(e => (string)e.Data["delta"]!["partial_json"]!);
        Assert.Equal("{}", string.Concat(json));   // a tool with no arguments still gets its input as input_json_delta
        Assert.Equal("tool_use", (string?)events[^2].Data["delta"]!["stop_reason"]);
    }

    [Fact]
    public async Task Messages_CutMidwayAndResumedOnAnotherRoute_IsOneWholeMessage()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(Hello.Replace("\"sim\"", "\"resume\"")));
        var events = Events(await response.Content.ReadAsStringAsync());
        AssertEveryBlockClosedAndMessageStopLast(events);
        Assert.Single(events, e => e.Name == "message_start");
        var text = string.Concat(events.Where(e => e.Name == "content_block_delta").Select(e => (string)e.Data["delta"]!["text"]!));
        Assert.Equal(FakeUpstream.Answer, text);
        Assert.Equal("resume", (string?)events[0].Data["message"]!["model"]);
    }

    [Fact]
    public async Task Messages_NotStreamed_IsOneAnthropicMessage()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(Hello.Replace("\"stream\":true", "\"stream\":false").Replace("\"sim\"", "\"relay\"")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("relay", message.GetProperty("model").GetString());
        Assert.Equal(FakeUpstream.Answer, message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("end_turn", message.GetProperty("stop_reason").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("stop_sequence").ValueKind);
    }

    [Fact]
    public async Task Messages_FailureOnEveryAttempt_EndsWithErrorEventAndNoMessageStop()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(Hello, fault: "drop-after=3;times=all"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Events(await response.Content.ReadAsStringAsync());
        Assert.Equal("message_start", events[0].Name);
        Assert.DoesNotContain(events, e => e.Name == "message_stop");
        var error = events[^1];
        Assert.Equal("error", error.Name);
        Assert.Contains((string?)error.Data["error"]!["type"], new[] { "api_error", "overloaded_error" });
        Assert.False(string.IsNullOrWhiteSpace((string?)error.Data["error"]!["message"]));
    }

    [Fact]
    public async Task Messages_FailureBeforeAnything_IsAnAnthropicErrorWithItsStatus()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(Hello.Replace("\"stream\":true", "\"stream\":false"), fault: "status=529;times=all"));
        // The engine reports what it gave up on (an upstream's 529 after every retry: a 502); the type follows the status.
        Assert.InRange((int)response.StatusCode, 500, 599);
        Assert.Equal(MessagesErrors.TypeOf((int)response.StatusCode), (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(null, "x-api-key header is required")]
    [InlineData("sk-wrong", "invalid x-api-key")]
    public async Task Messages_MissingOrWrongKey_Is401AuthenticationError(string? key, string message)
    {
        using var client = key is null ? fixture.Relay.Client(key: null) : ApiKeyClient(key);
        using var response = await client.SendAsync(Post(Hello));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        Assert.StartsWith(message, error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{not json", "We could not parse the JSON body")]
    [InlineData("""{"model":"sim","messages":[{"role":"user","content":"x"}]}""", "max_tokens: Field required")]
    [InlineData("""{"model":"sim","max_tokens":5,"messages":[{"role":"bot","content":"x"}]}""", "messages.0.role:")]
    public async Task Messages_InvalidBody_Is400InvalidRequestError(string body, string message)
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.StartsWith(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Messages_UnknownModel_Is404NotFoundError()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post(Hello.Replace("\"sim\"", "\"nope-claude\"")));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found_error", (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task CountTokens_AnswersAnEstimateLabelledAsSuch()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post("""{"model":"sim","system":"Be brief.","messages":[{"role":"user","content":"Count these words for me please"}]}""", "/v1/messages/count_tokens"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-orchestrator-estimate").Single());
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.InRange(root.GetProperty("input_tokens").GetInt32(), 5, 20);
        Assert.True(root.GetProperty("estimated").GetBoolean());
    }

    [Fact]
    public async Task CountTokens_UnknownModel_Is404NotFoundError()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post("""{"model":"nope","messages":[]}""", "/v1/messages/count_tokens"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found_error", (await ErrorOf(response)).GetProperty("type").GetString());
    }
}
