using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Settings;

public sealed class ConfigLoadingTests
{
    [Fact]
    public void Defaults_ServeEveryClientsIdThroughItsFamilysProviderWithTheSimulatorBehindWhenNoKeyIsSet()
    {
        var settings = OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText));
        foreach (var (id, provider) in (ReadOnlySpan<(string, string)>)[
            ("claude-opus-5-5", "anthropic"), ("claude-haiku-4-5-20251001", "anthropic"), ("gpt-6.1-sol", "openai"), ("o3-mini", "openai"),
            ("o4-mini", "openai"), ("codex-mini-latest", "openai"), ("gemini-3.5-flash-lite", "gemini"), ("gemini-3.1-pro-preview", "gemini"),
            ("deepseek-chat", "deepseek")])
        {
            Assert.True(settings.Resolver.TryResolve(id, out var model), id);
            // The id goes upstream as the client wrote it; the simulator answers while the provider has no key.
            Assert.Equal([(provider, id), ("simulator", id)], model.Routes.Select(r => (r.Provider, r.UpstreamModel)).ToArray());
            Assert.True(model.Routes[1].Demo);
        }
        Assert.False(settings.Resolver.TryResolve("llama-3", out _));
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Providers["simulator"].Upstream.HeartbeatInterval);
        Assert.Equal("https://api.deepseek.com/", settings.Providers["deepseek"].BaseUrl!.ToString());
    }

    [Fact]
    public void UserFile_ChangesOnlyTheKeysItSets()
    {
        var settings = TestSettings.From("orchestrator.upstream.pool-idle-timeout = 5s\norchestrator.auth.keys = [\"a\", \"b\"]");
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Providers["simulator"].Upstream.PoolIdleTimeout);
        Assert.Equal(TimeSpan.FromHours(1), settings.Providers["simulator"].Upstream.MaxLifetime);
        Assert.Equal(2, settings.Auth.Keys.Length);
        Assert.Contains(settings.Models, m => m.Id == "claude-*");   // models untouched: still the defaults
    }

    [Fact]
    public void UserProviderOverride_MergesOverTheShippedOne_AndItsKeyRetiresTheDemoRoute()
    {
        var settings = TestSettings.From("""
            orchestrator.providers.anthropic { base-url = "http://127.0.0.1:9/v1", api-key = "sk-ant-x" }
            """);
        Assert.Equal(ProviderKind.Anthropic, settings.Providers["anthropic"].Kind);   // kept from the shipped entry
        Assert.Equal("http://127.0.0.1:9/v1", settings.Providers["anthropic"].BaseUrl!.ToString());
        Assert.Contains("openai", settings.Providers.Keys);   // the others are still there
        Assert.True(settings.Resolver.TryResolve("claude-sonnet-5-5", out var claude));
        // With a key, a failing provider gives its error: no made-up text behind it.
        Assert.Equal(["anthropic"], claude.Routes.Select(r => r.Provider).ToArray());
        Assert.True(settings.Resolver.TryResolve("gpt-6.1-sol", out var gpt));
        Assert.Equal(["openai", "simulator"], gpt.Routes.Select(r => r.Provider).ToArray());
    }

    [Fact]
    public void UserProviderKind_PutsAnotherDialectBehindAShippedProvider()
    {
        var settings = TestSettings.From("""orchestrator.providers.anthropic { kind = openai, base-url = "http://127.0.0.1:9/v1", api-key = "sk-x" }""");
        Assert.Equal(ProviderKind.OpenAi, settings.Providers["anthropic"].Kind);
        Assert.True(settings.Resolver.TryResolve("claude-opus-5-5", out var claude));
        Assert.Equal([("anthropic", "claude-opus-5-5")], claude.Routes.Select(r => (r.Provider, r.UpstreamModel)).ToArray());
    }

    [Fact]
    public void UserModels_AddToTheShippedOnes_AndComeFirst()
    {
        var settings = TestSettings.From("""
            orchestrator {
              providers {
                primary { kind = openai, base-url = "https://api.example.test/v1", api-key = "sk-x", upstream { pool-idle-timeout = 7s } }
                local   { kind = simulator, token-delay = 1ms }
              }
              models {
                "claude-3*" { routes = [ { provider = local } ] }
                "gpt-4.1" {
                  routes = [ { provider = primary, model = "gpt-4.1-2025" }, { provider = local } ]
                  price { input = 2.00, output = 8.00 }
                }
              }
            }
            """);
        Assert.Contains("primary", settings.Providers.Keys);
        Assert.Contains("anthropic", settings.Providers.Keys);
        Assert.True(settings.Resolver.TryResolve("gpt-4.1", out var model));
        Assert.Equal([("primary", "gpt-4.1-2025"), ("local", "gpt-4.1")], model.Routes.Select(r => (r.Provider, r.UpstreamModel)).ToArray());
        Assert.All(model.Routes, r => Assert.Equal([ResumeStrategy.Replay], r.ResumeStrategies.ToArray()));   // auto without prefill
        Assert.Equal(new Price(2.00m, 8.00m), model.Price);
        Assert.Equal(TimeSpan.FromSeconds(7), settings.Providers["primary"].Upstream.PoolIdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Providers["primary"].Upstream.HeartbeatInterval);   // the rest from orchestrator.upstream
        Assert.Equal(TimeSpan.FromSeconds(30), model.Limits.FirstByteTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1), settings.Providers["local"].Simulator.TokenDelay);
        Assert.Equal("***", settings.Providers["primary"].ApiKey!.ToString());
        Assert.DoesNotContain("sk-x", settings.Providers["primary"].ToString());
        // The file's pattern is tried before the shipped "claude-*", which still serves the rest.
        Assert.True(settings.Resolver.TryResolve("claude-3-opus", out var old));
        Assert.Equal(["local"], old.Routes.Select(r => r.Provider).ToArray());
        Assert.True(settings.Resolver.TryResolve("claude-opus-5-5", out var current));
        Assert.Equal("anthropic", current.Routes[0].Provider);
    }

    [Fact]
    public void Responses_OnForTheShippedOpenAi_IgnoredByAnotherKindPutBehindIt()
    {
        Assert.True(TestSettings.From("").Providers["openai"].Responses);
        var settings = TestSettings.From("""orchestrator.providers.openai { kind = anthropic, base-url = "http://127.0.0.1:9/v1", api-key = "sk-x" }""");
        Assert.Equal(ProviderKind.Anthropic, settings.Providers["openai"].Kind);
        Assert.False(settings.Providers["openai"].Responses);
    }

    [Fact]
    public void DefaultModelsOff_ServesOnlyTheFilesOwnModels()
    {
        var settings = TestSettings.From("""
            orchestrator {
              default-models = off
              models { "mine" { routes = [ { provider = simulator } ] } }
            }
            """);
        Assert.Equal(["mine"], settings.Models.Select(m => m.Id).ToArray());
        Assert.False(settings.Resolver.TryResolve("claude-opus-5-5", out _));
        Assert.Contains("anthropic", settings.Providers.Keys);   // providers are untouched
    }

    [Fact]
    public void RouteModel_APattern_IsRefusedNamingTheKey()
    {
        var ex = Assert.Throws<InvalidConfigException>(() => TestSettings.From("""orchestrator.models { "x-*" { routes = [ { provider = simulator, model = "y-*" } ] } }"""));
        Assert.Contains("routes[0].model", ex.Key);
    }

    [Fact]
    public void EnvironmentSubstitution_ReadsSetVariablesAndDropsUnsetOptionalOnes()
    {
        var name = "ORCH_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "sk-from-env\"quoted");
        try
        {
            var settings = TestSettings.From($$"""
                orchestrator.providers {
                  a { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = ${?{{name}}} }
                  b { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = ${?{{name}}_UNSET} }
                }
                orchestrator.models { m { routes = [ { provider = a }, { provider = b } ] } }
                """);
            Assert.Equal("sk-from-env\"quoted", settings.Providers["a"].ApiKey!.Reveal());
            Assert.Null(settings.Providers["b"].ApiKey);
            Assert.Equal("no api-key is configured", settings.Providers["b"].UnavailableReason);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Theory]
    [InlineData("", UpstreamHttpVersion.Http11)]   // unset: orchestrator.upstream's
    [InlineData("http-version = auto", UpstreamHttpVersion.Auto)]
    [InlineData("http-version = 1.1", UpstreamHttpVersion.Http11)]
    [InlineData("http-version = \"1.1\"", UpstreamHttpVersion.Http11)]
    [InlineData("http-version = 2", UpstreamHttpVersion.Http2)]
    [InlineData("http-version = \"2\"", UpstreamHttpVersion.Http2)]
    public void HttpVersion_QuotedOrNot_IsBoundPerProvider(string providerUpstream, UpstreamHttpVersion expected)
    {
        var settings = TestSettings.From($$"""
            orchestrator.upstream.http-version = 1.1
            orchestrator.providers {
              p { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "none", upstream { {{providerUpstream}} } }
              q { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "none" }
            }
            orchestrator.models { m { routes = [ { provider = p }, { provider = q } ] } }
            """);
        Assert.Equal(expected, settings.Providers["p"].Upstream.HttpVersion);
        Assert.Equal(UpstreamHttpVersion.Http11, settings.Providers["q"].Upstream.HttpVersion);   // from orchestrator.upstream
    }

    [Fact]
    public void HttpVersion_Default_IsAuto() =>
        Assert.Equal(UpstreamHttpVersion.Auto, OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText)).Providers["openai"].Upstream.HttpVersion);

    [Theory]
    [InlineData("orchestrator.models { m { routes = [ { provider = ghost } ] } }", "orchestrator.models.m.routes[0].provider", "unknown provider 'ghost'")]
    [InlineData("orchestrator.providers.p { kind = openai, base-url = \"ftp://x\" }\norchestrator.models { m { routes = [ { provider = p } ] } }", "orchestrator.providers.p.base-url", "not an http")]
    [InlineData("orchestrator.models { m { routes = [ { provider = simulator } ], price { input = -1 } } }", "orchestrator.models.m.price.input", "less than 0")]
    [InlineData("orchestrator.model-defaults.idle-timeout = soon", "orchestrator.models.\"claude-*\".idle-timeout", "not a duration")]
    [InlineData("orchestrator.providers.p { kind = carrier-pigeon }", "orchestrator.providers.p.kind", "unknown kind")]
    [InlineData("orchestrator.providers.p { kind = simulator, upstream.http-version = 3 }", "orchestrator.providers.p.upstream.http-version", "'3' is not auto, 1.1 or 2")]
    [InlineData("orchestrator.upstream.http-version = h2c", "orchestrator.upstream.http-version", "'h2c' is not auto, 1.1 or 2")]
    [InlineData("orchestrator.models { \"x.y\" { routes = [] } }", "orchestrator.models.\"x.y\".routes", "at least one route")]
    [InlineData("orchestrator.auth.keys = [\"a\"]\norchestrator.provider = ${MISSING_VAR_FOR_TEST}", "user config", "MISSING_VAR_FOR_TEST")]
    public void InvalidConfig_FailsNamingTheKeyAndProblem(string userText, string key, string problem)
    {
        var ex = Assert.Throws<InvalidConfigException>(() => TestSettings.From(userText));
        Assert.Equal(key, ex.Key);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void ResponsesOn_AnOpenAiProvider_SpeaksResponsesAndChat()
    {
        var settings = TestSettings.From("""
            orchestrator.providers {
              p { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = k, responses = on }
              q { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = k }
            }
            orchestrator.models { m { routes = [ { provider = p }, { provider = q } ] } }
            """);
        var provider = settings.Providers["p"];
        Assert.True(provider.Responses);
        Assert.True(provider.Speaks(Orchestrator.Messages.Chat.Dialect.OpenAiResponses));
        Assert.True(provider.Speaks(Orchestrator.Messages.Chat.Dialect.OpenAiChat));
        Assert.False(settings.Providers["q"].Speaks(Orchestrator.Messages.Chat.Dialect.OpenAiResponses));   // off unless said
    }
}
