using Orchestrator.Actors.Simulator;

namespace Orchestrator.Tests.Simulator;

public sealed class FaultPlanTests
{
    private static FaultPlan Parse(string text)
    {
        Assert.True(FaultPlan.TryParse(text, out var plan, out var error), error);
        return plan;
    }

    private static string Error(string text)
    {
        Assert.False(FaultPlan.TryParse(text, out _, out var error), $"'{text}' parsed");
        return error;
    }

    [Fact]
    public void Status_Alone_RefusesTheFirstAttemptOnly()
    {
        var plan = Parse("status=503");
        Assert.Equal(503, plan.Status);
        Assert.Null(plan.Code);
        Assert.Null(plan.RetryAfter);
        Assert.Equal(1, plan.Times);
        Assert.True(plan.AppliesTo(0));
        Assert.False(plan.AppliesTo(1));
    }

    [Fact]
    public void StatusWithCode_KeepsTheCodeAsWritten()
    {
        var plan = Parse("status=400;code=context_length_exceeded");
        Assert.Equal(400, plan.Status);
        Assert.Equal("context_length_exceeded", plan.Code);
    }

    [Theory]
    [InlineData("retry-after=2s", 2000)]
    [InlineData("retry-after=2", 2000)]
    [InlineData("retry-after=1.5s", 1500)]
    [InlineData("retry-after=500ms", 500)]
    [InlineData("retry-after=0", 0)]
    [InlineData("retry-after-ms=250", 250)]
    public void RetryAfter_EveryDurationForm_IsRead(string pair, double millis)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(millis), Parse("status=429;" + pair).RetryAfter);
    }

    [Fact]
    public void FirstByteDelay_Alone_IsAValidPlan()
    {
        Assert.Equal(TimeSpan.FromSeconds(2.5), Parse("first-byte-delay=2.5s").FirstByteDelay);
    }

    [Theory]
    [InlineData("drop-after=5", StreamBreakKind.Drop, 5)]
    [InlineData("eof-after=0", StreamBreakKind.Eof, 0)]
    [InlineData("stall-after=3", StreamBreakKind.Stall, 3)]
    public void StreamBreak_EachKey_SetsKindAndCount(string text, StreamBreakKind kind, int tokens)
    {
        Assert.Equal(new StreamBreak(kind, tokens), Parse(text).Break);
    }

    [Theory]
    [InlineData("times=3", 3)]
    [InlineData("times=all", FaultPlan.AllAttempts)]
    [InlineData("times=ALL", FaultPlan.AllAttempts)]
    public void Times_NumberOrAll_SetsHowManyAttemptsAreHit(string pair, int times)
    {
        var plan = Parse("status=503;" + pair);
        Assert.Equal(times, plan.Times);
        Assert.True(plan.AppliesTo(2));
        Assert.Equal(times > 3, plan.AppliesTo(3));
    }

    [Fact]
    public void PrefillRefuse_IsRead()
    {
        Assert.True(Parse("prefill=refuse").RefusePrefill);
    }

    [Fact]
    public void Combination_CaseWhitespaceAndCommas_AreTolerated()
    {
        var plan = Parse("  STATUS = 503 , Retry-After=1s;; first-byte-delay= 200MS ;Times=2 ;");
        Assert.Equal(new FaultPlan { Status = 503, RetryAfter = TimeSpan.FromSeconds(1), FirstByteDelay = TimeSpan.FromMilliseconds(200), Times = 2 }, plan);
    }

    [Theory]
    [InlineData("status=503;retry-after=1.5s;times=all")]
    [InlineData("status=400;code=context_length_exceeded")]
    [InlineData("first-byte-delay=2s;drop-after=5;prefill=refuse;times=2")]
    [InlineData("stall-after=0")]
    [InlineData("times=4")]
    [InlineData("first-byte-delay=0")]
    public void ToString_ParsesBackToAnEqualPlan(string text)
    {
        var plan = Parse(text);
        Assert.Equal(plan, Parse(plan.ToString()));
    }

    [Fact]
    public void ToString_IsCanonical()
    {
        Assert.Equal("status=503;retry-after=1500ms;times=all", Parse("Times=ALL, Retry-After=1.5s, Status=503").ToString());
    }

    [Theory]
    [InlineData("status=abc", "status")]
    [InlineData("status=399", "status")]
    [InlineData("status=600", "status")]
    [InlineData("status=-500", "status")]
    [InlineData("status=", "status")]
    [InlineData("status=400;code=no spaces", "code")]
    [InlineData("status=429;retry-after=soon", "retry-after")]
    [InlineData("status=429;retry-after=-1s", "retry-after")]
    [InlineData("status=429;retry-after=2m", "retry-after")]
    [InlineData("status=429;retry-after=NaN", "retry-after")]
    [InlineData("status=429;retry-after-ms=1s", "retry-after-ms")]
    [InlineData("first-byte-delay=99999999", "first-byte-delay")]
    [InlineData("drop-after=x", "drop-after")]
    [InlineData("drop-after=-1", "drop-after")]
    [InlineData("eof-after=1.5", "eof-after")]
    [InlineData("stall-after=", "stall-after")]
    [InlineData("prefill=allow", "prefill")]
    [InlineData("status=503;times=0", "times")]
    [InlineData("status=503;times=many", "times")]
    [InlineData("bogus=1", "bogus")]
    [InlineData("status", "status")]
    public void BadValue_IsAnErrorNamingTheKey(string text, string key)
    {
        Assert.Contains(key, Error(text));
    }

    [Theory]
    [InlineData("status=503;status=500", "status")]
    [InlineData("drop-after=1;eof-after=2", "eof-after")]
    [InlineData("stall-after=1;drop-after=2", "drop-after")]
    [InlineData("status=503;drop-after=5", "drop-after")]
    [InlineData("eof-after=5;status=503", "eof-after")]
    [InlineData("status=503;retry-after=1s;retry-after-ms=5", "retry-after-ms")]
    [InlineData("code=rate_limited", "code")]
    [InlineData("retry-after=1s", "retry-after")]
    public void ConflictingKeys_AreAnErrorNamingTheKey(string text, string key)
    {
        Assert.Contains(key, Error(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(";,")]
    [InlineData(null)]
    public void Empty_IsAnError(string? text)
    {
        Assert.False(FaultPlan.TryParse(text, out _, out var error));
        Assert.Contains("empty", error);
    }
}
