using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Routing;

public sealed class RetryPolicyTests
{
    private static readonly OrchestratorSettings Settings = TestSettings.From("""
        orchestrator {
          default-models = off   # these models only
          providers {
            a { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-a", upstream { max-retries = 2, retry-base-delay = 1s, retry-max-delay = 8s } }
            b { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-b" }
          }
          models {
            m { routes = [ { provider = a }, { provider = b }, { provider = b, model = "big", large-context = on } ] }
          }
        }
        """);

    private static readonly UpstreamSettings Upstream = Settings.Providers["a"].Upstream;
    private static readonly IReadOnlyList<RouteSettings> Routes = Settings.Models.Single().Routes;
    private static readonly TimeSpan Plenty = TimeSpan.FromMinutes(10);

    /// <summary>Jitter pinned: NextDouble always returns <paramref name="value"/>.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    private static RetryDecision Decide(UpstreamFailure failure, int retries = 0, bool freshRetryUsed = false, TimeSpan? timeLeft = null, int route = 0, double jitter = 0.5,
        bool panic = false) =>
        RetryPolicy.Decide(failure, Upstream, Routes, new RetryContext(route, retries, freshRetryUsed, timeLeft ?? Plenty) { Panic = panic }, new FixedRandom(jitter));

    private static UpstreamFailure Failure(FailureKind kind, int? status = null, TimeSpan? retryAfter = null) =>
        new(kind, status, $"{kind}") { RetryAfter = retryAfter };

    [Fact]
    public void RetryPolicy_ServerError_RetriesAfterJitteredBackoff()
    {
        Assert.Equal(new RetryDecision.RetryAfter(TimeSpan.FromMilliseconds(500)), Decide(Failure(FailureKind.ServerError, 500)));
        Assert.Equal(new RetryDecision.RetryAfter(TimeSpan.FromSeconds(1)), Decide(Failure(FailureKind.ServerError, 500), retries: 1));
    }

    [Fact]
    public void RetryPolicy_RetriesSpent_NextRoute() =>
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(FailureKind.ServerError, 500), retries: 2));

    [Fact]
    public void RetryPolicy_RetryAfterLongerThanBackoff_WaitsRetryAfter() =>
        Assert.Equal(new RetryDecision.RetryAfter(TimeSpan.FromSeconds(3)), Decide(Failure(FailureKind.RateLimited, 429, TimeSpan.FromSeconds(3))));

    [Fact]
    public void RetryPolicy_RetryAfterShorterThanBackoff_WaitsBackoff() =>
        Assert.Equal(new RetryDecision.RetryAfter(TimeSpan.FromMilliseconds(500)), Decide(Failure(FailureKind.RateLimited, 429, TimeSpan.FromMilliseconds(100))));

    [Fact]
    public void RetryPolicy_RetryAfterPastMaxDelay_NextRoute() =>
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(FailureKind.RateLimited, 429, TimeSpan.FromSeconds(30))));

    [Fact]
    public void RetryPolicy_DelayReachesDeadline_NextRoute()
    {
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(FailureKind.ServerError, 500), timeLeft: TimeSpan.FromMilliseconds(500)));
        Assert.IsType<RetryDecision.RetryAfter>(Decide(Failure(FailureKind.ServerError, 500), timeLeft: TimeSpan.FromMilliseconds(501)));
    }

    [Fact]
    public void RetryPolicy_FirstTransportError_RetriesAtOnceOutsideTheBudget()
    {
        Assert.Equal(RetryDecision.RetryNow.Instance, Decide(Failure(FailureKind.Transport), retries: 2));
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(FailureKind.Transport), retries: 2, freshRetryUsed: true));
        Assert.IsType<RetryDecision.RetryAfter>(Decide(Failure(FailureKind.Transport), freshRetryUsed: true));
    }

    [Theory]
    [InlineData(FailureKind.Unauthorized)]
    [InlineData(FailureKind.ModelNotFound)]
    [InlineData(FailureKind.Timeout)]
    [InlineData(FailureKind.Unavailable)]
    [InlineData(FailureKind.Internal)]
    public void RetryPolicy_NotRetryable_NextRoute(FailureKind kind) =>
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(kind)));

    [Fact]
    public void RetryPolicy_ParkedWithRetryAfter_WaitsForIt() =>
        Assert.Equal(new RetryDecision.RetryAfter(TimeSpan.FromSeconds(2)), Decide(Failure(FailureKind.Unavailable, retryAfter: TimeSpan.FromSeconds(2))));

    [Theory]
    [InlineData(FailureKind.ServerError)]
    [InlineData(FailureKind.RateLimited)]
    [InlineData(FailureKind.Unavailable)]
    public void RetryPolicy_PanicTrialFailed_NextRouteWithoutBackoff(FailureKind kind) =>
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(kind, retryAfter: TimeSpan.FromSeconds(1)), panic: true));

    [Fact]
    public void RetryPolicy_PanicTrialStaleSocket_StillOneFreshRetry()
    {
        Assert.Equal(RetryDecision.RetryNow.Instance, Decide(Failure(FailureKind.Transport), panic: true));
        Assert.Equal(RetryDecision.NextRoute.Instance, Decide(Failure(FailureKind.Transport), freshRetryUsed: true, panic: true));
    }

    [Fact]
    public void RetryPolicy_PanicTrialCallerFault_StillGivesUp() =>
        Assert.IsType<RetryDecision.GiveUp>(Decide(new UpstreamFailure(FailureKind.CallerFault, 400, "bad"), panic: true));

    [Fact]
    public void RetryPolicy_CallerFault_GivesUpInTheProvidersWords()
    {
        var failure = new UpstreamFailure(FailureKind.CallerFault, 422, "messages[0] is invalid", "invalid_value", "messages");
        Assert.Equal(new RetryDecision.GiveUp(new ApiError(422, "messages[0] is invalid", "invalid_request_error", "messages", "invalid_value")), Decide(failure));
    }

    [Fact]
    public void RetryPolicy_ContextLengthExceeded_LargeContextRouteWhileOneIsLeft()
    {
        var tooLong = new UpstreamFailure(FailureKind.CallerFault, 400, "too long", RetryPolicy.ContextLengthExceeded);
        Assert.Equal(new RetryDecision.LargeContextRoute(2), Decide(tooLong));
        Assert.Equal(new RetryDecision.LargeContextRoute(2), Decide(tooLong, route: 1));
        Assert.Equal(400, Assert.IsType<RetryDecision.GiveUp>(Decide(tooLong, route: 2)).Error.Status);
    }

    [Fact]
    public void RetryDelays_DoublesFromTheBaseUpToTheCap_NeverBelowATenth()
    {
        var (baseDelay, max) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
        Assert.Equal(TimeSpan.FromSeconds(4), RetryDelays.Next(2, baseDelay, max, new FixedRandom(1)));
        Assert.Equal(TimeSpan.FromSeconds(8), RetryDelays.Next(10, baseDelay, max, new FixedRandom(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(100), RetryDelays.Next(0, baseDelay, max, new FixedRandom(0)));
    }
}
