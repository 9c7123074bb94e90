using Akka.Actor;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Upstream;

public sealed class ProviderSupervisorTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = OFF")
{
    private static readonly ProviderSettings Provider = TestSettings.From("").Providers["simulator"];

    /// <summary>Answers "ok" except for the request whose model is "crash", which throws a bug of ours.</summary>
    private sealed class MixedUpstream : IUpstreamClient
    {
        public Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken) =>
            call.UpstreamModel == "crash"
                ? Task.FromException<UpstreamResponse>(new InvalidOperationException("a bug"))
                : Task.FromResult<UpstreamResponse>(new UpstreamCompletion(TestSse.Json(new ChatCompletion { Id = call.RequestId })));

        public Task ProbeAsync(TimeSpan timeout) => Task.CompletedTask;

        public UpstreamMeters Meters { get; } = new();

        public void Dispose()
        {
        }
    }

    private static StartAttempt Start(string id, string model, Akka.Actor.IActorRef replyTo) =>
        new(id, new ChatRequest(model, false, false, null, System.Text.Json.JsonDocument.Parse("{}").RootElement), new RouteTarget("simulator", model), 0, TimeSpan.FromSeconds(30), replyTo);

    [Fact]
    public async Task Provider_OneRequestFails_OthersAreAnswered()
    {
        var provider = Sys.ActorOf(ProviderSupervisor.Props(Provider, _ => new MixedUpstream()), "provider-simulator");
        var asker = CreateTestProbe();
        provider.Tell(Start("a", "ok", asker.Ref));
        provider.Tell(Start("b", "crash", asker.Ref));
        provider.Tell(Start("c", "ok", asker.Ref));

        var outcomes = new[]
        {
            await asker.ExpectMsgAsync<IAttemptOutcome>(),
            await asker.ExpectMsgAsync<IAttemptOutcome>(),
            await asker.ExpectMsgAsync<IAttemptOutcome>(),
        }.ToDictionary(o => o.RequestId);
        Assert.IsType<AttemptCompleted>(outcomes["a"]);
        Assert.IsType<AttemptCompleted>(outcomes["c"]);
        Assert.Equal(FailureKind.Internal, Assert.IsType<AttemptFailed>(outcomes["b"]).Failure.Kind);

        provider.Tell(Start("d", "ok", asker.Ref));   // the provider itself is untouched
        Assert.Contains("\"id\":\"d\"", System.Text.Encoding.UTF8.GetString((await asker.ExpectMsgAsync<AttemptCompleted>()).Body.Span));
    }
}
