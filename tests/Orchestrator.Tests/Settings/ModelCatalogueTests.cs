using Akka.Configuration;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Settings;

/// <summary>Prices: the operator's own, else the shipped catalogue's (by id, then by upstream model), else none (cost 0).</summary>
public sealed class ModelCatalogueTests
{
    private static OrchestratorSettings WithModels(string models) => TestSettings.From($$"""
        orchestrator {
          providers { sim { kind = simulator } }
          models { {{models}} }
        }
        """);

    private static ModelSettings Model(string models, string id = "m") => WithModels(models).Models.Single(m => m.Id == id);

    private static Config LoadDefaults(string? user = null) =>
        HoconLoader.Load(TestSettings.DefaultsText, user, "my.conf", TestSettings.CatalogueText);

    [Fact]
    public void Catalogue_Shipped_HasEveryNamedModelWithPriceWindowAndProvenance()
    {
        var entries = ModelCatalogue.From(ConfigNodeOf(LoadDefaults())).Entries.ToDictionary(e => e.Id);
        string[] named = ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini", "claude-sonnet-4-5",
            "claude-opus-4-1", "claude-haiku-4-5", "gemini-2.5-pro", "gemini-2.5-flash", "deepseek-chat", "deepseek-reasoner"];
        Assert.All(named, id => Assert.True(entries.ContainsKey(id), id));
        Assert.All(entries.Values, e =>
        {
            Assert.NotNull(e.Price);
            Assert.True(e.ContextWindow > 0, e.Id);
            Assert.StartsWith("https://", e.Source);
            Assert.False(string.IsNullOrWhiteSpace(e.Read), e.Id);
        });
        Assert.Equal(new Price(2.00m, 8.00m, 0.50m), entries["gpt-4.1"].Price);
        Assert.Equal(new Price(3.00m, 15.00m, 0.30m), entries["claude-sonnet-4-5"].Price);
    }

    [Fact]
    public void Catalogue_DeepSeekPrices_AreExactDecimals()
    {
        var price = Model("""m { routes = [ { provider = sim, model = "deepseek-chat" } ] }""").Price;
        Assert.Equal(0.28m, price.Input);
        Assert.Equal(0.028m, price.CachedInput);
        Assert.Equal(0.42m, price.Output);
        // Exact to the token: a million and one cached tokens cost exactly this, no binary rounding.
        Assert.Equal(0.028000028m, 1_000_001 * price.CachedInput / 1_000_000m);
    }

    [Fact]
    public void Price_NotSet_ComesFromTheCatalogueEntryOfTheModelId()
    {
        var model = Model("""
            "gpt-4.1" { routes = [ { provider = sim } ] }
            """, "gpt-4.1");
        Assert.Equal(PriceSource.Catalogue, model.PriceSource);
        Assert.Equal(new Price(2.00m, 8.00m, 0.50m), model.Price);
        Assert.Equal(1047576, model.ContextWindow);
    }

    [Fact]
    public void Price_NotSet_ComesFromTheCatalogueEntryOfTheFirstRoutesUpstreamModel()
    {
        var model = Model("""m { routes = [ { provider = sim, model = "claude-haiku-4-5" }, { provider = sim, model = "o3" } ] }""");
        Assert.Equal(PriceSource.Catalogue, model.PriceSource);
        Assert.Equal(new Price(1.00m, 5.00m, 0.10m), model.Price);
        Assert.Equal(200000, model.ContextWindow);
    }

    [Fact]
    public void Price_SetByTheOperator_WinsOverTheCatalogue()
    {
        var model = Model("""
            "gpt-4.1" { routes = [ { provider = sim } ], context-window = 4096, price { input = 1.5, output = 6 } }
            """, "gpt-4.1");
        Assert.Equal(PriceSource.Config, model.PriceSource);
        Assert.Equal(new Price(1.5m, 6m, 1.5m), model.Price);   // cached-input defaults to input
        Assert.Equal(4096, model.ContextWindow);
    }

    [Fact]
    public void Price_ExplicitZero_IsFreeNotUnpriced()
    {
        var model = Model("""
            "gpt-4.1" { routes = [ { provider = sim } ], price { input = 0, output = 0 } }
            """, "gpt-4.1");
        Assert.Equal(PriceSource.Config, model.PriceSource);
        Assert.Equal(Price.Free, model.Price);
    }

    [Fact]
    public void Price_CachedInput_IsReadWhenSet()
    {
        var model = Model("""m { routes = [ { provider = sim } ], price { input = 2, output = 8, cached-input = 0.5 } }""");
        Assert.Equal(new Price(2m, 8m, 0.5m), model.Price);
    }

    [Fact]
    public void Price_ModelDefaultsSetIt_EveryModelTakesItOverTheCatalogue()
    {
        var settings = TestSettings.From("""
            orchestrator {
              model-defaults.price { input = 0, output = 0 }
              providers { sim { kind = simulator } }
              models { "gpt-4.1" { routes = [ { provider = sim } ] } }
            }
            """);
        Assert.Equal((PriceSource.Config, Price.Free), (settings.Models[0].PriceSource, settings.Models[0].Price));
    }

    [Fact]
    public void Price_NowhereAtAll_IsNoneAndCostsZero()
    {
        var model = Model("""m { routes = [ { provider = sim, model = "some-local-model" } ] }""");
        Assert.Equal(PriceSource.None, model.PriceSource);
        Assert.Equal(Price.Free, model.Price);
        Assert.Null(model.ContextWindow);
    }

    [Theory]
    [InlineData("price { input = 2 }", "orchestrator.models.m.price.output")]
    [InlineData("price { output = 2 }", "orchestrator.models.m.price.input")]
    [InlineData("price { cached-input = 1 }", "orchestrator.models.m.price.input")]
    public void Price_Half_IsRefusedNamingTheMissingKey(string price, string key)
    {
        var ex = Assert.Throws<InvalidConfigException>(() => Model($$"""m { routes = [ { provider = sim } ], {{price}} }"""));
        Assert.Equal(key, ex.Key);
        Assert.Contains("a price sets input and output", ex.Message);
    }

    [Fact]
    public void Defaults_EveryShippedModelIsPriced()
    {
        var settings = OrchestratorSettings.FromConfig(LoadDefaults());
        // Every id a client can see listed is priced; the shipped entries are patterns, priced per id they serve.
        Assert.All(settings.Resolver.Listed, m => Assert.NotEqual(PriceSource.None, m.PriceSource));
        Assert.True(settings.Resolver.TryResolve("gpt-4.1", out var gpt));
        Assert.Equal(new Price(2.00m, 8.00m, 0.50m), gpt.Price);
        Assert.Equal((PriceSource.Config, Price.Free), settings.Models.Single(m => m.Id == "simulator") is var sim ? (sim.PriceSource, sim.Price) : default);
    }

    [Fact]
    public void UnknownKeys_CatalogueKeysPassAndAUsersOwnEntryIsRead()
    {
        var settings = OrchestratorSettings.FromConfig(LoadDefaults("""
            orchestrator.catalogue."my-model" { context-window = 32768, source = "https://example.test/prices", read = "2026-12-06", price { input = 0.5, output = 1 } }
            orchestrator.catalogue."gpt-4.1".price.input = 1.75
            orchestrator.providers { sim { kind = simulator } }
            orchestrator.models."my-model".routes = [ { provider = sim } ]
            orchestrator.models."gpt-4.1".routes = [ { provider = sim } ]
            """));
        Assert.Equal((new Price(0.5m, 1m), (int?)32768), (settings.Models[0].Price, settings.Models[0].ContextWindow));
        Assert.Equal(new Price(1.75m, 8.00m, 0.50m), settings.Models[1].Price);   // a correction of one figure keeps the rest
    }

    [Theory]
    [InlineData("""orchestrator.models { "m" { routes = [ { provider = simulator } ], price { input = 1, output = 2, cached-inptu = 0.5 } } }""", "orchestrator.models.m.price.cached-inptu", "price.cached-input")]
    [InlineData("""orchestrator.catalogue."x" { pricee { input = 1, output = 2 } }""", "orchestrator.catalogue.x.pricee", "price")]
    [InlineData("""orchestrator.catalogue."x" { context-windw = 1000 }""", "orchestrator.catalogue.x.context-windw", "context-window")]
    public void UnknownKeys_ATypoInTheUsersPriceOrCatalogueEntry_IsRefused(string user, string key, string suggestion)
    {
        var ex = Assert.Throws<InvalidConfigException>(() => LoadDefaults(user));
        Assert.Equal(key, ex.Key);
        Assert.Contains("my.conf", ex.Message);
        Assert.Contains(suggestion, ex.Message);
    }

    [Fact]
    public void Catalogue_ATypoInTheCatalogueFile_IsRefusedNamingIt()
    {
        var ex = Assert.Throws<InvalidConfigException>(() =>
            HoconLoader.Load(TestSettings.DefaultsText, null, "my.conf", """orchestrator.catalogue."x" { sauce = "https://example.test" }"""));
        Assert.Contains(HoconLoader.CatalogueFile, ex.Message);
    }

    private static ConfigNode ConfigNodeOf(Config config) => ConfigNode.Root(config).Child("orchestrator").Child("catalogue");
}
