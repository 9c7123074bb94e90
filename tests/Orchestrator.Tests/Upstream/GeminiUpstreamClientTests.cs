using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Gemini;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Upstream;

/// <summary>The gemini kind's client against the fake API on loopback: URL, key header, answers, and how refusals classify.</summary>
public sealed class GeminiUpstreamClientTests : IAsyncLifetime
{
    private FakeGemini _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeGemini.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private IUpstreamClient Client(string key = FakeGemini.ApiKey) => UpstreamClients.Create(TestSettings.From($$"""
        orchestrator.providers { g { kind = gemini, base-url = "{{_fake.BaseUrl}}", api-key = "{{key}}" } }
        orchestrator.models { m { routes = [ { provider = g } ] } }
        """).Providers["g"]);

    private static UpstreamCall Call(string model, bool stream, string? body = null)
    {
        using var doc = JsonDocument.Parse(body ?? """{"model":"m","messages":[{"role":"user","content":"hi"}]}""");
        return new UpstreamCall("req-1", new ChatRequest("m", stream, false, null, doc.RootElement.Clone()), model);
    }

    [Fact]
    public async Task Send_Stream_SseUrlKeyHeaderAndDecoder()
    {
        using var client = Client();

        var response = await client.SendAsync(Call("gemini-text", stream: true), CancellationToken.None);

        var stream = Assert.IsType<UpstreamStream>(response);
        using var body = stream.Body;
        Assert.IsType<ChatChunkDecoder>(stream.Body.Decoder);
        var recorded = Assert.Single(_fake.Requests);
        Assert.Equal("/v1beta/models/gemini-text:streamGenerateContent", recorded.Path);
        Assert.Equal("?alt=sse", recorded.Query);   // and never the key
        Assert.Equal(FakeGemini.ApiKey, recorded.ApiKey);
        var wire = await new StreamReader(stream.Body.Stream!, Encoding.UTF8).ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(GeminiRecordings.Wire(GeminiRecordings.Text), wire);
    }

    [Fact]
    public async Task Send_NotStreamed_GenerateContentAsChatCompletion()
    {
        using var client = Client();

        var response = await client.SendAsync(Call("models/gemini-tools", stream: false), CancellationToken.None);

        var completion = Assert.IsType<UpstreamCompletion>(response);
        using var doc = JsonDocument.Parse(completion.Body);
        Assert.Equal("tool_calls", doc.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("/v1beta/models/gemini-tools:generateContent", Assert.Single(_fake.Requests).Path);
    }

    [Fact]
    public async Task Send_ResourceExhausted_RateLimitedWithRetryInfoAsRetryAfter()
    {
        using var client = Client();

        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(Call("gemini-429", stream: true), CancellationToken.None));

        Assert.Equal(FailureKind.RateLimited, refusal.Failure.Kind);
        Assert.Equal("RESOURCE_EXHAUSTED", refusal.Failure.Code);
        Assert.Equal(TimeSpan.FromSeconds(37), refusal.Failure.RetryAfter);
    }

    [Fact]
    public async Task Send_Unavailable_ServerError()
    {
        using var client = Client();

        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(Call("gemini-503", stream: true), CancellationToken.None));

        Assert.Equal(FailureKind.ServerError, refusal.Failure.Kind);
        Assert.True(refusal.Failure.IsRetryable);
    }

    [Fact]
    public async Task Send_BadKey_UnauthorizedNotCallerFault()
    {
        using var client = Client("AIzaWrongKey");

        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(Call("gemini-text", stream: true), CancellationToken.None));

        Assert.Equal(FailureKind.Unauthorized, refusal.Failure.Kind);   // Gemini says 400, but it is our key
        Assert.DoesNotContain("AIzaWrongKey", refusal.Failure.Message);
    }

    [Fact]
    public async Task Send_InvalidArgument_CallerFaultInGeminisWords()
    {
        using var client = Client();
        // A 'tool' message answering nothing cannot be sent; a raw body the fake refuses comes back in its words.
        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(
            Call("gemini-text", stream: false, """{"model":"m","messages":[{"role":"tool","tool_call_id":"x","content":"1"}]}"""), CancellationToken.None));

        Assert.Equal(FailureKind.CallerFault, refusal.Failure.Kind);
        Assert.Equal("messages[0].tool_call_id", refusal.Failure.Param);
        Assert.Empty(_fake.Requests);   // refused before it was sent
    }

    [Theory]
    [InlineData(400, "Invalid JSON payload received. Unknown name \"foo\": Cannot find field.", "INVALID_ARGUMENT", null, FailureKind.CallerFault)]
    [InlineData(400, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", "INVALID_ARGUMENT", null, FailureKind.CallerFault)]
    [InlineData(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", "API_KEY_INVALID", FailureKind.Unauthorized)]
    [InlineData(403, "Permission denied", "PERMISSION_DENIED", null, FailureKind.Unauthorized)]
    [InlineData(400, "User location is not supported for the API use.", "FAILED_PRECONDITION", null, FailureKind.Unauthorized)]
    [InlineData(404, "models/x is not found", "NOT_FOUND", null, FailureKind.ModelNotFound)]
    [InlineData(429, "Resource has been exhausted", "RESOURCE_EXHAUSTED", null, FailureKind.RateLimited)]
    [InlineData(500, "An internal error has occurred.", "INTERNAL", null, FailureKind.ServerError)]
    [InlineData(503, "The model is overloaded.", "UNAVAILABLE", null, FailureKind.ServerError)]
    [InlineData(504, "Deadline exceeded", "DEADLINE_EXCEEDED", null, FailureKind.ServerError)]
    public void Classify_GoogleRpcStatus_Kind(int status, string message, string rpcStatus, string? reason, FailureKind kind)
    {
        var failure = GeminiErrors.Classify(status, message, rpcStatus, reason, null);

        Assert.Equal(kind, failure.Kind);
        if (kind == FailureKind.CallerFault) Assert.Equal(message, failure.Message);
        if (message.Contains("exceeds the maximum number of tokens")) Assert.Equal("context_length_exceeded", failure.Code);
    }

    [Fact]
    public async Task Probe_ListsModelsWithTheKeyHeader()
    {
        using var client = Client();
        await client.ProbeAsync(TimeSpan.FromSeconds(5));

        using var bad = Client("AIzaWrongKey");
        await Assert.ThrowsAsync<HttpRequestException>(() => bad.ProbeAsync(TimeSpan.FromSeconds(5)));
    }
}
