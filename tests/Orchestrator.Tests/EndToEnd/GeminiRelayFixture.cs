using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// The fake Gemini API and a relay with a model per recording. The 429 route has a provider of its own: the 429's
/// Retry-After parks its provider, which must not take the other scenarios' provider with it.
/// </summary>
public sealed class GeminiRelayFixture : IAsyncLifetime
{
    public const string ClientKey = "sk-test-client";

    public FakeGemini Gemini { get; private set; } = null!;
    public RelayHost Relay { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Gemini = await FakeGemini.StartAsync();
        Relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["{{ClientKey}}"]
              upstream { retry-base-delay = 20ms, retry-max-delay = 2s }
              model-defaults { first-byte-timeout = 5s, first-token-timeout = 5s, idle-timeout = 5s }
              providers {
                gem      { kind = gemini, base-url = "{{Gemini.BaseUrl}}", api-key = "{{FakeGemini.ApiKey}}" }
                gemquota { kind = gemini, base-url = "{{Gemini.BaseUrl}}", api-key = "{{FakeGemini.ApiKey}}" }
                gemnext  { kind = gemini, base-url = "{{Gemini.BaseUrl}}", api-key = "{{FakeGemini.ApiKey}}" }
              }
              models {
                "g-text"     { routes = [ { provider = gem, model = "gemini-text" } ] }
                "g-tools"    { routes = [ { provider = gem, model = "gemini-tools" } ] }
                "g-thinking" { routes = [ { provider = gem, model = "gemini-thinking" } ] }
                "g-safety"   { routes = [ { provider = gem, model = "gemini-safety" } ] }
                "g-blocked"  { routes = [ { provider = gem, model = "gemini-blocked" } ] }
                "g-quota"    { routes = [ { provider = gemquota, model = "gemini-429" }, { provider = gemnext, model = "gemini-text" } ] }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Gemini.DisposeAsync();
    }
}
