using System.Text.RegularExpressions;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Settings;

/// <summary>A key the service does not know stops start-up, naming the key, where it is set, and the nearest known key.</summary>
public sealed class UnknownKeyTests
{
    private const string Providers = """
        orchestrator.providers {
          p { kind = simulator, token-delay = 1ms }
        }
        """;

    private static InvalidConfigException Refused(string userText) =>
        Assert.Throws<InvalidConfigException>(() => HoconLoader.Load(TestSettings.DefaultsText, userText, "my.conf"));

    [Fact]
    public void MovedKey_UpstreamIdleTimeout_FailsNamingFileLineAndTheNewPlace()
    {
        var ex = Refused("""
            orchestrator {
              upstream {
                idle-timeout = 2s
              }
            }
            """);
        Assert.Equal("orchestrator.upstream.idle-timeout", ex.Key);
        Assert.StartsWith("Invalid configuration: orchestrator.upstream.idle-timeout: unknown key (my.conf, line 3)", ex.Message);
        Assert.Contains("orchestrator.model-defaults.idle-timeout", ex.Message);
    }

    [Fact]
    public void MovedKey_InAProvidersUpstreamBlock_NamesTheNewPlace()
    {
        var ex = Refused($$"""
            {{Providers}}
            orchestrator.providers.p.upstream.first-byte-timeout = 5s
            orchestrator.models { m { routes = [ { provider = p } ] } }
            """);
        Assert.Equal("orchestrator.providers.p.upstream.first-byte-timeout", ex.Key);
        Assert.Contains("(my.conf, line 4)", ex.Message);
        Assert.Contains("orchestrator.model-defaults.first-byte-timeout", ex.Message);
    }

    [Fact]
    public void MisplacedKey_SuggestsTheSameKeyInItsSection()
    {
        var ex = Refused("orchestrator.http.max-retries = 3");
        Assert.Equal("Invalid configuration: orchestrator.http.max-retries: unknown key (my.conf, line 1); " +
                     "did you mean orchestrator.upstream.max-retries or orchestrator.providers.NAME.upstream.max-retries?", ex.Message);
    }

    [Theory]
    [InlineData("orchestrator.providers.p.token-dely = 2ms", "orchestrator.providers.p.token-dely", "orchestrator.providers.p.token-delay")]
    [InlineData("orchestrator.providers.p.upstream { max-retrys = 1 }", "orchestrator.providers.p.upstream.max-retrys", "orchestrator.providers.p.upstream.max-retries")]
    [InlineData("orchestrator.providers.p.upstream.breaker.reset-timout = 1s", "orchestrator.providers.p.upstream.breaker.reset-timout", "orchestrator.providers.p.upstream.breaker.reset-timeout")]
    [InlineData("orchestrator.models.m.idle-timout = 5s", "orchestrator.models.m.idle-timout", "orchestrator.models.m.idle-timeout")]
    [InlineData("orchestrator.models.m.price.ouptut = 2", "orchestrator.models.m.price.ouptut", "orchestrator.models.m.price.output")]
    [InlineData("orchestrator.models.m.prefill = on", "orchestrator.models.m.prefill", "orchestrator.route-defaults.prefill")]
    [InlineData("orchestrator.realtime.max-message-byte = 4096", "orchestrator.realtime.max-message-byte", "orchestrator.realtime.max-message-bytes")]
    [InlineData("orchestrator.http { reply-timout = 5s }", "orchestrator.http.reply-timout", "orchestrator.http.reply-timeout")]
    [InlineData("orchestrator.logging.requets = off", "orchestrator.logging.requets", "orchestrator.logging.requests")]
    [InlineData("orchestrator.auth.key = [\"a\"]", "orchestrator.auth.key", "orchestrator.auth.keys")]
    [InlineData("orchestrator.upstream.breaker-max-failures = 3", "orchestrator.upstream.breaker-max-failures", "orchestrator.upstream.breaker.max-failures")]
    [InlineData("orchestrator.upstream.breaker.max-failure = 3", "orchestrator.upstream.breaker.max-failure", "orchestrator.upstream.breaker.max-failures")]
    [InlineData("orchestrator.provider-defaults.completion-token = 3", "orchestrator.provider-defaults.completion-token", "orchestrator.provider-defaults.completion-tokens")]
    [InlineData("orchestrator.model-defaults.max-resume = 3", "orchestrator.model-defaults.max-resume", "orchestrator.model-defaults.max-resumes")]
    [InlineData("orchestrator.route-defaults.large-contxt = on", "orchestrator.route-defaults.large-contxt", "orchestrator.route-defaults.large-context")]
    [InlineData("orchestrator.upsteam { max-retries = 1 }", "orchestrator.upsteam", "orchestrator.upstream")]
    [InlineData("orchestrater.http.listen = \"http://127.0.0.1:1\"", "orchestrater", "orchestrator")]
    public void Typo_FailsNamingTheKeyAndTheNearestKnownKey(string typo, string key, string suggestion)
    {
        var ex = Refused($$"""
            {{Providers}}
            orchestrator.models { m { routes = [ { provider = p } ] } }
            {{typo}}
            """);
        Assert.Equal(key, ex.Key);
        Assert.Contains("(my.conf, line 5)", ex.Message);
        Assert.Contains($"did you mean {suggestion}", ex.Message);
    }

    [Fact]
    public void TypoInARoute_NamesTheRouteByIndexAndLine()
    {
        var ex = Refused("""
            orchestrator.providers {
              p { kind = simulator }
            }
            orchestrator.models {
              "gpt-4.1" {
                routes = [
                  { provider = p },
                  { provider = p, modle = "other" }
                ]
              }
            }
            """);
        Assert.Equal("Invalid configuration: orchestrator.models.\"gpt-4.1\".routes[1].modle: unknown key (my.conf, line 8); did you mean orchestrator.models.\"gpt-4.1\".routes[1].model?", ex.Message);
    }

    [Fact]
    public void UnrelatedKey_FailsWithoutASuggestion()
    {
        var ex = Refused("orchestrator.http.colour = blue");
        Assert.Equal("Invalid configuration: orchestrator.http.colour: unknown key (my.conf, line 1)", ex.Message);
    }

    [Fact]
    public void SeveralUnknownKeys_AreNamedTogether_OneLineEach()
    {
        var ex = Refused("orchestrator.http.colour = blue\norchestrator.realtime.flavour = mint");
        var lines = ex.Message.Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("orchestrator.http.colour", lines[0]);
        Assert.Contains("orchestrator.realtime.flavour: unknown key (my.conf, line 2)", lines[1]);
    }

    [Fact]
    public void KeyMadeBySubstitution_NamesTheFileWithoutALine()
    {
        var ex = Refused("""
            templates.sim { kind = simulator, tokn-delay = 1ms }
            orchestrator.providers { p = ${templates.sim} }
            orchestrator.models { m { routes = [ { provider = p } ] } }
            """);
        Assert.Contains("Invalid configuration: orchestrator.providers.p.tokn-delay: unknown key (my.conf); did you mean orchestrator.providers.p.token-delay?", ex.Message);
        Assert.Contains("Invalid configuration: templates: unknown key (my.conf, line 1)", ex.Message);   // the file holds orchestrator and akka only
    }

    [Fact]
    public void AkkaSection_IsNotChecked()
    {
        var config = HoconLoader.Load(TestSettings.DefaultsText, "akka.some-setting-of-akkas = 1\nakka.actor.whatever = on", "my.conf");
        Assert.Equal(1, config.GetInt("akka.some-setting-of-akkas"));
    }

    [Fact]
    public void ConfigFile_IsNamedByItsPath()
    {
        var file = Path.Combine(Path.GetTempPath(), $"orchestrator-unknown-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "# a comment\norchestrator {\n  upstream.idle-timeout = 2s\n}\n");
        try
        {
            var ex = Assert.Throws<InvalidConfigException>(() =>
                HoconLoader.LoadFiles(Path.Combine(AppContext.BaseDirectory, OrchestratorApp.DefaultConfigFile), file));
            Assert.Contains($"unknown key ({file}, line 3)", ex.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ShippedDefaults_LaidOverThemselves_AreAllKnown() =>
        OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText, TestSettings.DefaultsText, "orchestrator.conf", TestSettings.CatalogueText));

    [Fact]
    public void ShippedCatalogue_AsAUsersFile_IsAllKnown() =>
        OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText, TestSettings.CatalogueText, HoconLoader.CatalogueFile));

    [Fact]
    public void BenchConfig_IsAllKnown()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), "bench", "orchestrator-bench.conf"))
            .Replace("${BENCH_MOCK_URL}", "\"http://127.0.0.1:1/v1\"").Replace("${BENCH_MOCK_H2_URL}", "\"http://127.0.0.1:2/v1\"").Replace("${BENCH_LEDGER_DB}", "\"bench-ledger.db\"");
        var settings = OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText, text, "orchestrator-bench.conf"));
        Assert.Equal(UpstreamHttpVersion.Http2, settings.Providers["mock-h2"].Upstream.HttpVersion);
    }

    [Fact]
    public void SoakConfig_IsAllKnown()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), "bench", "Soak", "soak.conf"))
            .Replace("${SOAK_ALPHA_URL}", "\"http://127.0.0.1:1/alpha/v1\"").Replace("${SOAK_BETA_URL}", "\"http://127.0.0.1:1/beta/v1\"");
        var settings = OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText, text, "soak.conf"));
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Providers["alpha"].Upstream.PoolIdleTimeout);
    }

    /// <summary>Every <c>```hocon</c> block of the README: whole files as they are, fragments under <c>orchestrator</c>.</summary>
    [Fact]
    public void ReadmeExamples_AreAllKnown()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var blocks = Regex.Matches(readme, "```hocon\n(?<body>.*?)```", RegexOptions.Singleline).Select(m => m.Groups["body"].Value).ToList();
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            // Environment references stand for values the reader supplies.
            var text = Regex.Replace(block, @"\$\{\??[A-Z_]+\}", "\"sk-example\"");
            if (!text.TrimStart().StartsWith("orchestrator", StringComparison.Ordinal))
                text = $"orchestrator {{\n{text}\n}}\norchestrator.models {{ m {{ routes = [ {{ provider = simulator }} ] }} }}\norchestrator.providers.simulator.kind = simulator";
            OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText, text, "README.md", TestSettings.CatalogueText));
        }
    }

    [Fact]
    public void KeyLines_FollowNestingDottedAndQuotedKeysListsAndComments()
    {
        var lines = HoconKeyLines.Find("""
            # orchestrator { nothing = here }
            orchestrator {
              http.listen = "http://x:1" // a comment
              models {
                "gpt-4.1" { routes = [ { provider = a }, { provider = b,
                  model = "m" } ], price { input = 1 } }
              }
              auth { keys = ["}", "{"] }
              upstream { breaker { max-failures = 3 } }
            }
            akka.loglevel = INFO
            """);
        Assert.Equal(2, lines["orchestrator"]);
        Assert.Equal(3, lines["orchestrator.http.listen"]);
        Assert.Equal(5, lines["orchestrator.models.\"gpt-4.1\".routes[1].provider"]);
        Assert.Equal(6, lines["orchestrator.models.\"gpt-4.1\".routes[1].model"]);
        Assert.Equal(6, lines["orchestrator.models.\"gpt-4.1\".price.input"]);
        Assert.Equal(8, lines["orchestrator.auth.keys"]);
        Assert.Equal(9, lines["orchestrator.upstream.breaker.max-failures"]);
        Assert.Equal(11, lines["akka.loglevel"]);
        Assert.False(lines.ContainsKey("orchestrator.nothing"));
    }

    [Fact]
    public void KeyLines_AnyText_EndsWithoutThrowing()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        const string alphabet = "ab.=:{}[],\"#/+$?\n\r\t \\";
        for (var i = 0; i < 2000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(60)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            var ex = Record.Exception(() => HoconKeyLines.Find(text));
            Assert.True(ex is null, $"seed {seed}, text {text}: {ex}");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) return dir.FullName;
        throw new InvalidOperationException("Orchestrator.sln not found above " + AppContext.BaseDirectory);
    }
}
