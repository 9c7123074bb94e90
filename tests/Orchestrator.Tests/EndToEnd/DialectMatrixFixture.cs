using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// One relay with a model per upstream kind (the OpenAI fake, the Anthropic fake, the Gemini fake, the simulator), each answering text
/// or a tool call depending on whether the request offers tools, and the cross-dialect resume models.
/// </summary>
public sealed class DialectMatrixFixture : IAsyncLifetime
{
    public const string ClientKey = "sk-test-client";

    public FakeUpstream OpenAi { get; private set; } = null!;
    public FakeAnthropic Anthropic { get; private set; } = null!;
    public FakeGemini Gemini { get; private set; } = null!;
    public RelayHost Relay { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        OpenAi = await FakeUpstream.StartAsync();
        Anthropic = await FakeAnthropic.StartAsync();
        Gemini = await FakeGemini.StartAsync();
        // Resume strategies, per continuing route, chosen for what its fake honours:
        //  - "anthropic-then-openai": prefill onto the OpenAI fake ("prefill-ok" answers only the rest of a prefilled answer);
        //  - "openai-then-anthropic": replay onto the Anthropic fake ("claude-text" sends the whole answer again, the relay drops what the client has);
        //  - "openai-then-anthropic-prefill": prefill onto the Anthropic fake's native assistant prefill ("claude-prefill" sends only the rest).
        Relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["{{ClientKey}}"]
              upstream { retry-base-delay = 20ms, retry-max-delay = 200ms, breaker.max-failures = 1000 }
              model-defaults { first-byte-timeout = 5s, first-token-timeout = 5s, idle-timeout = 5s }
              providers {
                openai    { kind = openai, base-url = "{{OpenAi.BaseUrl}}", api-key = "sk-upstream-secret" }
                anthropic { kind = anthropic, base-url = "{{Anthropic.BaseUrl}}", api-key = "{{FakeAnthropic.ApiKey}}" }
                gemini    { kind = gemini, base-url = "{{Gemini.BaseUrl}}", api-key = "{{FakeGemini.ApiKey}}" }
                simulator { kind = simulator, token-delay = 0ms, completion-tokens = 12 }
              }
              models {
                "openai"    { routes = [ { provider = openai, model = "matrix" } ] }
                "anthropic" { routes = [ { provider = anthropic, model = "claude-auto" } ] }
                "gemini"    { routes = [ { provider = gemini, model = "gemini-auto" } ] }
                "simulator" { routes = [ { provider = simulator } ] }
                "openai-no-usage" { routes = [ { provider = openai, model = "diverge" } ] }
                "anthropic-then-openai"         { routes = [ { provider = anthropic, model = "claude-cut" }, { provider = openai, model = "prefill-ok", prefill = on, resume-strategy = "prefill" } ] }
                "openai-then-anthropic"         { routes = [ { provider = openai, model = "cut-after-2" }, { provider = anthropic, model = "claude-text", resume-strategy = "replay" } ] }
                "openai-then-anthropic-prefill" { routes = [ { provider = openai, model = "cut-after-2" }, { provider = anthropic, model = "claude-prefill", prefill = on, resume-strategy = "prefill" } ] }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Gemini.DisposeAsync();
        await OpenAi.DisposeAsync();
    }
}
