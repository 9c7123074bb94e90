using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Upstream;

/// <summary>The anthropic kind's client against the fake API on loopback: headers, answers, and how refusals classify.</summary>
public sealed class AnthropicUpstreamClientTests : IAsyncLifetime
{
    private FakeAnthropic _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeAnthropic.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private IUpstreamClient Client(string key = FakeAnthropic.ApiKey) => UpstreamClients.Create(TestSettings.From($$"""
        orchestrator.providers { claude { kind = anthropic, base-url = "{{_fake.BaseUrl}}", api-key = "{{key}}" } }
        orchestrator.models { m { routes = [ { provider = claude } ] } }
        """).Providers["claude"]);

    private static UpstreamCall Call(string model, bool stream, string? body = null, NativeRequest? native = null)
    {
        using var doc = JsonDocument.Parse(body ?? """{"model":"m","messages":[{"role":"user","content":"hi"}]}""");
        return new UpstreamCall("req-1", new ChatRequest("m", stream, false, null, doc.RootElement.Clone()) { Native = native }, model) { MaxTokensDefault = 321 };
    }

    [Fact]
    public async Task Send_Stream_HeadersSentAndBodyDecodedIntoChatChunks()
    {
        using var client = Client();

        var response = await client.SendAsync(Call("claude-text", stream: true), CancellationToken.None);

        var stream = Assert.IsType<UpstreamStream>(response);
        using var body = stream.Body;
        Assert.IsType<ChatChunkDecoder>(stream.Body.Decoder);
        var recorded = Assert.Single(_fake.Requests);
        Assert.Equal(FakeAnthropic.ApiKey, recorded.ApiKey);
        Assert.Equal("2023-06-01", recorded.Version);
        Assert.Equal(321, recorded.Body.GetProperty("max_tokens").GetInt32());
        var wire = await new StreamReader(stream.Body.Stream!, Encoding.UTF8).ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(AnthropicRecordings.Text, wire);   // the upstream's bytes; the answer stage decodes them
    }

    [Fact]
    public async Task Send_NotStreamed_ChatCompletionUnderTheUpstreamModel()
    {
        using var client = Client();

        var response = await client.SendAsync(Call("claude-tools", stream: false), CancellationToken.None);

        var completion = Assert.IsType<UpstreamCompletion>(response);
        using var doc = JsonDocument.Parse(completion.Body);
        Assert.Equal("claude-tools", doc.RootElement.GetProperty("model").GetString());
        Assert.Equal("tool_calls", doc.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Send_Overloaded529_RetryableServerError()
    {
        using var client = Client();

        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(Call("claude-529", stream: true), CancellationToken.None));

        Assert.Equal(FailureKind.ServerError, refusal.Failure.Kind);
        Assert.Equal(529, refusal.Failure.Status);
        Assert.Equal("overloaded_error", refusal.Failure.Code);
        Assert.True(refusal.Failure.IsRetryable);
        Assert.True(refusal.Failure.IsProviderFault);
    }

    [Fact]
    public async Task Send_WrongKey_UnauthorizedWithoutTheKey()
    {
        using var client = Client("sk-ant-wrong");

        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(Call("claude-text", stream: true), CancellationToken.None));

        Assert.Equal(FailureKind.Unauthorized, refusal.Failure.Kind);
        Assert.DoesNotContain("sk-ant", refusal.Failure.Message);
    }

    [Fact]
    public async Task Send_RefusedBody_CallerFaultInTheApisWords()
    {
        using var client = Client();
        using var native = JsonDocument.Parse("""{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"bogus":1}""");

        var refusal = Assert.IsType<UpstreamRefusal>(await client.SendAsync(
            Call("claude-text", stream: true, native: new NativeRequest(Dialect.AnthropicMessages, native.RootElement.Clone())), CancellationToken.None));

        Assert.Equal(FailureKind.CallerFault, refusal.Failure.Kind);
        Assert.Equal("bogus: Extra inputs are not permitted", refusal.Failure.Message);
        Assert.Equal("invalid_request_error", refusal.Failure.Code);
    }

    [Fact]
    public async Task Probe_RightKey_Passes_WrongKey_Throws()
    {
        using var good = Client();
        using var bad = Client("sk-ant-wrong");

        await good.ProbeAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<HttpRequestException>(() => bad.ProbeAsync(TimeSpan.FromSeconds(5)));
    }
}
