using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Settings;

public sealed class ModelPatternTests
{
    [Theory]
    [InlineData("claude-*", "claude-opus-5-5", true)]
    [InlineData("claude-*", "claude-", true)]
    [InlineData("claude-*", "claude", false)]
    [InlineData("gemini-*", "gemini-3.5-flash-lite", true)]   // dots are ordinary characters
    [InlineData("o3*", "o3", true)]
    [InlineData("o3*", "o30-x", true)]
    [InlineData("o3*", "xo3", false)]
    [InlineData("*-mini", "gpt-4o-mini", true)]
    [InlineData("*-mini", "gpt-4o-mini-2", false)]
    [InlineData("a*b*c", "aXbYbZc", true)]
    [InlineData("a*b*c", "aXbYbZ", false)]
    [InlineData("meta/*", "meta/llama-3", true)]
    [InlineData("Claude-*", "claude-x", false)]   // case counts, as for exact ids
    [InlineData("*", "anything", true)]
    public void Matches_GlobOverTheWholeId(string pattern, string id, bool matches) => Assert.Equal(matches, ModelPattern.Matches(pattern, id));

    [Theory]
    [InlineData("claude-haiku-4-5-20251001", "claude-haiku-4-5")]
    [InlineData("gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("claude-3-5-sonnet-latest", "claude-3-5-sonnet")]
    [InlineData("claude-sonnet-4-5@20250929", "claude-sonnet-4-5")]
    [InlineData("claude-opus-5-5", null)]
    [InlineData("gpt-4.1", null)]
    [InlineData("x-1234567", null)]
    public void Family_ADatedSnapshotBelongsToItsUndatedModel(string id, string? family) => Assert.Equal(family, ModelPattern.Family(id));

    [Fact]
    public void Resolve_ExactFirst_ThenPatternsInConfigOrder()
    {
        var settings = TestSettings.From("""
            orchestrator {
              default-models = off
              providers {
                a { kind = simulator }
                b { kind = simulator }
                c { kind = simulator }
              }
              models {
                "gpt-4*"  { routes = [ { provider = a } ] }
                "gpt-*"   { routes = [ { provider = b } ] }
                "gpt-4.1" { routes = [ { provider = c, model = "gpt-4.1-upstream" } ] }
                "*-mini"  { routes = [ { provider = c } ] }
              }
            }
            """);
        string Provider(string id) => settings.Resolver.TryResolve(id, out var m) ? $"{m.Routes[0].Provider}:{m.Routes[0].UpstreamModel}" : "none";
        Assert.Equal("c:gpt-4.1-upstream", Provider("gpt-4.1"));   // the exact entry, though two patterns match too
        Assert.Equal("a:gpt-4o", Provider("gpt-4o"));               // the first pattern in config order
        Assert.Equal("a:gpt-4o-mini", Provider("gpt-4o-mini"));     // "gpt-4*" comes before "*-mini"
        Assert.Equal("b:gpt-6.1-sol", Provider("gpt-6.1-sol"));
        Assert.Equal("c:o4-mini", Provider("o4-mini"));
        Assert.Equal("none", Provider("claude-x"));
        Assert.True(settings.Resolver.TryResolve("gpt-6.1-sol", out var resolved));
        Assert.Equal("gpt-6.1-sol", resolved.Id);
        Assert.Equal("gpt-*", resolved.Pattern);
    }

    [Fact]
    public void Price_AnIdAPatternServes_TakesItsCatalogueEntryElseItsFamilys_ElseNone()
    {
        var settings = TestSettings.From("""
            orchestrator.catalogue."vendor-big-*" { price { input = 5, output = 25 } }
            orchestrator.models {
              "claude-*" { routes = [ { provider = simulator } ] }
              "vendor-*" { routes = [ { provider = simulator } ] }
              "own-*"    { routes = [ { provider = simulator } ], price { input = 1, output = 2 } }
            }
            """);
        ModelSettings Resolve(string id) => settings.Resolver.TryResolve(id, out var m) ? m : throw new Xunit.Sdk.XunitException(id);
        Assert.Equal((new Price(1.00m, 5.00m, 0.10m), PriceSource.Catalogue), (Resolve("claude-haiku-4-5").Price, Resolve("claude-haiku-4-5").PriceSource));
        // A dated snapshot takes its undated model's price.
        Assert.Equal(new Price(1.00m, 5.00m, 0.10m), Resolve("claude-haiku-4-5-20251001").Price);
        Assert.Equal(200000, Resolve("claude-haiku-4-5-20251001").ContextWindow);
        // A family entry of the catalogue prices every id it matches.
        Assert.Equal((new Price(5m, 25m), PriceSource.Catalogue), (Resolve("vendor-big-2").Price, Resolve("vendor-big-2").PriceSource));
        Assert.Equal(PriceSource.None, Resolve("vendor-small-1").PriceSource);
        // The entry's own price covers every id it serves.
        Assert.Equal((new Price(1m, 2m), PriceSource.Config), (Resolve("own-thing").Price, Resolve("own-thing").PriceSource));
    }

    [Fact]
    public void Listed_ConcreteIdsOnly_ConfiguredThenTheCataloguesIdsAPatternServes()
    {
        var settings = TestSettings.From("""
            orchestrator {
              default-models = off
              models {
                "mine"     { routes = [ { provider = simulator } ] }
                "claude-*" { routes = [ { provider = simulator } ] }
              }
            }
            """);
        var listed = settings.Resolver.Listed.Select(m => m.Id).ToList();
        Assert.Equal("mine", listed[0]);
        Assert.Contains("claude-sonnet-4-5", listed);
        Assert.DoesNotContain("claude-*", listed);
        Assert.DoesNotContain("gpt-4.1", listed);   // in the catalogue, but no pattern serves it
    }
}
