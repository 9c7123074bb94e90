using System.Collections.Immutable;
using Akka.Actor;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Front;

public sealed class HttpFrontActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly OrchestratorSettings Settings = TestSettings.From("""
        orchestrator {
          default-models = off   # these models only
          providers {
            first  { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-1" }
            second { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-2" }
            keyless { kind = openai, base-url = "http://127.0.0.1:1/v1" }
          }
          models {
            "gpt-4.1" { routes = [ { provider = keyless }, { provider = first, model = "up-1" }, { provider = second, model = "up-2" } ] }
            "gpt-4o"  { routes = [ { provider = first } ] }
          }
        }
        """);

    public HttpFrontActorTests() : base("akka.loglevel = WARNING")
    {
    }

    private (IActorRef Front, Dictionary<string, Akka.TestKit.TestProbe> Providers) CreateFront()
    {
        var probes = Settings.Providers.Keys.ToDictionary(name => name, _ => CreateTestProbe());
        foreach (var probe in probes.Values) probe.IgnoreMessages(m => m is AttemptSettled or RoutingNoted);   // bookkeeping for the provider
        var front = Sys.ActorOf(HttpFrontActor.Props(Settings, probes.ToImmutableDictionary(p => p.Key, p => p.Value.Ref)));
        return (front, probes);
    }

    private static CreateChat Chat(string id, string model) =>
        new(id, new ChatRequest(model, true, false, null, System.Text.Json.JsonDocument.Parse("{}").RootElement), "key-1");

    [Fact]
    public async Task Front_RoutesInOrder_SkipsKeylessAndFallsBackOnFailure()
    {
        var (front, providers) = CreateFront();
        front.Tell(Chat("r1", "gpt-4.1"), TestActor);

        var first = await providers["first"].ExpectMsgAsync<StartAttempt>();
        Assert.Equal(new RouteTarget("first", "up-1"), first.Route);
        first.ReplyTo.Tell(new AttemptFailed("r1", "first", new UpstreamFailure(FailureKind.Unauthorized, 401, "HTTP 401")));

        var second = await providers["second"].ExpectMsgAsync<StartAttempt>();
        Assert.Equal("up-2", second.Route.UpstreamModel);
        var chunks = Orchestrator.Messages.Upstream.StreamedBody.FromSource(Source.Empty<Akka.IO.ByteString>());
        second.ReplyTo.Tell(new AttemptStreaming("r1", "second", chunks));

        var reply = await ExpectMsgAsync<ChatStreaming>();
        Assert.Equal("second", reply.Provider);
        await providers["keyless"].ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task Front_EveryRouteFails_Rejects502NamingEach()
    {
        var (front, providers) = CreateFront();
        front.Tell(Chat("r2", "gpt-4.1"), TestActor);
        var first = await providers["first"].ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r2", "first", new UpstreamFailure(FailureKind.Timeout, null, "no response headers within first-byte-timeout")));
        var second = await providers["second"].ExpectMsgAsync<StartAttempt>();
        second.ReplyTo.Tell(new AttemptFailed("r2", "second", new UpstreamFailure(FailureKind.Unauthorized, 401, "HTTP 401")));

        var rejected = await ExpectMsgAsync<ChatRejected>();
        Assert.Equal(502, rejected.Error.Status);
        Assert.Contains("keyless (gpt-4.1): skipped, no api-key is configured", rejected.Error.Message);
        Assert.Contains("first (up-1): no response headers", rejected.Error.Message);
        Assert.Contains("second (up-2): HTTP 401", rejected.Error.Message);
    }

    [Fact]
    public async Task Front_CallerFault_ReturnedWithoutTryingNextRoute()
    {
        var (front, providers) = CreateFront();
        front.Tell(Chat("r3", "gpt-4.1"), TestActor);
        var first = await providers["first"].ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r3", "first", new UpstreamFailure(FailureKind.CallerFault, 400, "bad messages", "invalid_value", "messages")));

        var rejected = await ExpectMsgAsync<ChatRejected>();
        Assert.Equal(new ApiError(400, "bad messages", "invalid_request_error", "messages", "invalid_value"), rejected.Error);
        await providers["second"].ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task Front_UnknownModel_RejectsWithClosestIds()
    {
        var (front, _) = CreateFront();
        front.Tell(Chat("r4", "gpt-4.2"), TestActor);
        var rejected = await ExpectMsgAsync<ChatRejected>();
        Assert.Equal(404, rejected.Error.Status);
        Assert.Contains("gpt-4.1, gpt-4o", rejected.Error.Message);
    }

    [Fact]
    public async Task Admission_KeyActorAnswered_NextReserveGoesStraightToIt_AgainThroughTheLedgerWhenItStops()
    {
        var ledger = CreateTestProbe();
        var key = CreateTestProbe();
        var providers = Settings.Providers.Keys.ToImmutableDictionary(name => name, _ => CreateTestProbe().Ref);
        var front = Sys.ActorOf(HttpFrontActor.Props(Settings, providers, ledger.Ref));
        CreateChat Billed(string id) => Chat(id, "gpt-4o") with { KeyId = "key_a" };

        // The first admission goes through the ledger; the key's actor answers it.
        front.Tell(Billed("b1"), TestActor);
        Assert.Equal("b1", (await ledger.ExpectMsgAsync<Reserve>()).RequestId);
        front.Tell(new Admitted("b1"), key.Ref);

        // The next one on that key goes to that actor, not through the ledger.
        front.Tell(Billed("b2"), TestActor);
        Assert.Equal("b2", (await key.ExpectMsgAsync<Reserve>()).RequestId);
        await ledger.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        // It stops without answering: what waited on it is asked again through the ledger, and so is the next request.
        Sys.Stop(key.Ref);
        Assert.Equal("b2", (await ledger.ExpectMsgAsync<Reserve>()).RequestId);
        front.Tell(Billed("b3"), TestActor);
        Assert.Equal("b3", (await ledger.ExpectMsgAsync<Reserve>()).RequestId);
        front.Tell(new NotAdmitted("b3", ApiError.InvalidApiKey("This API key has been revoked.")), ledger.Ref);
        Assert.Equal("b3", (await ExpectMsgAsync<ChatRejected>()).RequestId);
    }

    [Fact]
    public async Task Front_CancelBeforeReply_CancelsTheCurrentAttempt()
    {
        var (front, providers) = CreateFront();
        front.Tell(Chat("r5", "gpt-4o"), TestActor);
        var first = await providers["first"].ExpectMsgAsync<StartAttempt>();
        front.Tell(new CancelChat("r5"));

        Assert.Equal("r5", (await providers["first"].ExpectMsgAsync<CancelAttempt>()).RequestId);
        first.ReplyTo.Tell(new AttemptCompleted("r5", "first", TestSse.Json(new ChatCompletion())));   // too late: nobody is told
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
    }
}
