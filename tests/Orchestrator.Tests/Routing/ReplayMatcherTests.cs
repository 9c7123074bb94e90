using Orchestrator.Actors.Routing;

namespace Orchestrator.Tests.Routing;

public sealed class ReplayMatcherTests
{
    private static (bool Ok, string Fresh) FeedAll(ReplayMatcher matcher, params string[] pieces)
    {
        var fresh = "";
        foreach (var piece in pieces)
        {
            if (!matcher.TryFeed(piece, out var part)) return (false, fresh);
            fresh += part;
        }
        return (true, fresh);
    }

    [Theory]
    [InlineData("Hello,", new[] { "Hel", "lo", ", wor", "ld!" }, " world!")]
    [InlineData("Hello, ", new[] { "Hello", ",", " world", "!" }, "world!")]        // the client's trailing space is not repeated
    [InlineData("Hello,  wo", new[] { "Hello", ", wo", "rld", "!" }, "rld!")]       // whitespace differences are ignored
    [InlineData("", new[] { "Hello", "!" }, "Hello!")]
    [InlineData("Hello", new[] { "Hello" }, "")]
    public void Replay_SameText_HandsOutOnlyWhatIsNew(string sent, string[] replayed, string expected)
    {
        var (ok, fresh) = FeedAll(new ReplayMatcher(sent), replayed);
        Assert.True(ok);
        Assert.Equal(expected, fresh);
    }

    [Fact]
    public void Replay_DifferentText_Diverges()
    {
        var (ok, _) = FeedAll(new ReplayMatcher("Hello, world"), "Hello", ", moon");
        Assert.False(ok);
    }
}
