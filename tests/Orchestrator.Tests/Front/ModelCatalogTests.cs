using Orchestrator.Actors.Front;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.Front;

public sealed class ModelCatalogTests
{
    private static readonly ModelCatalog Catalog = new(TestSettings.From("""
        orchestrator {
          default-models = off   # these models only
          providers { sim { kind = simulator } }
          models {
            "gpt-4.1" { routes = [ { provider = sim } ] }
            "gpt-4o"  { routes = [ { provider = sim } ] }
            "o3"      { routes = [ { provider = sim } ] }
          }
        }
        """).Resolver);

    [Fact]
    public void Closest_NearMiss_ComesFirst() =>
        Assert.Equal("gpt-4o", Catalog.Closest("GPT-4O-mini", 1).Single());

    [Fact]
    public void Closest_HugeId_ComparesOnlyItsPrefix()
    {
        // Two million characters would be 2M x 7 cells per candidate; the prefix keeps it to 256 x 7.
        var closest = Catalog.Closest("gpt-4.1" + new string('x', 2_000_000 - 7));
        Assert.Equal(3, closest.Length);
        Assert.Equal("gpt-4.1", closest[0]);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(64, 64)]
    [InlineData(65, 65)]
    [InlineData(100_000, 65)]
    public void Quote_LongId_IsCutToAPrefixAndMarked(int length, int quotedLength)
    {
        var quoted = ApiError.Quote(new string('a', length));
        Assert.Equal(Math.Min(length, quotedLength), quoted.Length);
        Assert.Equal(length > ApiError.MaxQuotedLength, quoted.EndsWith('…'));
    }
}
