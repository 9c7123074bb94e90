using System.Collections.Immutable;
using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Routing;

/// <summary>One request's session with probes as its providers and its caller; timers run on the test scheduler.</summary>
public sealed class ChatSessionActorTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private static readonly OrchestratorSettings Settings = TestSettings.From("""
        orchestrator {
          providers {
            a { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-a", upstream { retry-base-delay = 1s, retry-max-delay = 4s } }
            b { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-b" }
            keyless { kind = openai, base-url = "http://127.0.0.1:1/v1" }
          }
          models {
            m { first-byte-timeout = 5s, total-timeout = 20s, routes = [ { provider = a, model = "up-a" }, { provider = b, model = "up-b" } ] }
            # total-timeout before an attempt is overdue (first-byte-timeout + 5s)
            brief { first-byte-timeout = 5s, total-timeout = 8s, routes = [ { provider = a, model = "up-a" }, { provider = b, model = "up-b" } ] }
            half-keyless { first-byte-timeout = 5s, total-timeout = 20s, routes = [ { provider = keyless }, { provider = a, model = "up-a" } ] }
            all-keyless { routes = [ { provider = keyless } ] }
          }
        }
        """);

    private static readonly ModelSettings Model = Settings.Models.Single(m => m.Id == "m");
    private static readonly ModelSettings Brief = Settings.Models.Single(m => m.Id == "brief");
    private static readonly ModelSettings HalfKeyless = Settings.Models.Single(m => m.Id == "half-keyless");
    private static readonly ModelSettings AllKeyless = Settings.Models.Single(m => m.Id == "all-keyless");
    private static readonly UpstreamFailure Open = new(FailureKind.Unavailable, null, "circuit open until 12:00:30Z after 5 failures in a row");
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(100);

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private sealed record Session(IActorRef Actor, TestProbe Caller, TestProbe A, TestProbe B);

    private Session Start(bool stream = true, ModelSettings? model = null)
    {
        var caller = CreateTestProbe();
        var a = CreateTestProbe();
        var b = CreateTestProbe();
        foreach (var probe in new[] { a, b }) probe.IgnoreMessages(m => m is AttemptSettled or RoutingNoted);   // bookkeeping for the provider
        model ??= Model;
        var request = new ChatRequest(model.Id, stream, false, null, JsonDocument.Parse("{}").RootElement);
        var providers = ImmutableDictionary<string, IActorRef>.Empty.Add("a", a.Ref).Add("b", b.Ref);
        var actor = Sys.ActorOf(ChatSessionActor.Props(new CreateChat("r1", request, "key-1"), caller.Ref, model, Settings, providers, []));
        Watch(actor);
        return new Session(actor, caller, a, b);
    }

    /// <summary>Returns once the session has handled every message sent to it before (Identify is answered in mailbox order).</summary>
    private async Task Handled(IActorRef session)
    {
        var sync = CreateTestProbe();
        session.Tell(new Identify(null), sync.Ref);
        await sync.ExpectMsgAsync<ActorIdentity>();
    }

    private static UpstreamFailure Failure(FailureKind kind, int? status, string message) => new(kind, status, message);

    private static ChatCompletionChunk Chunk(string? content, string? finish = null) => new()
    {
        Id = "chatcmpl-1",
        Created = 1,
        Model = "m",
        Choices = [new ChunkChoice { Delta = new ChatDelta { Content = content }, FinishReason = finish }],
    };

    private Task<IImmutableList<ChatCompletionChunk>> Read(ChatStreaming streaming) =>
        streaming.Answer.SelectMany(block => block.ReadChunks()).RunWith(Sink.Seq<ChatCompletionChunk>(), Sys.Materializer());

    private static string Text(IEnumerable<ChatCompletionChunk> chunks) => string.Concat(chunks.Select(c => c.Choices.FirstOrDefault()?.Delta.Content));

    [Fact]
    public async Task Session_FirstAttemptStreams_CallerGetsChatStreaming()
    {
        var s = Start();
        var attempt = await s.A.ExpectMsgAsync<StartAttempt>();
        Assert.Equal((new RouteTarget("a", "up-a"), 0, Model.Limits.FirstByteTimeout), (attempt.Route, attempt.Attempt, attempt.FirstByteTimeout));
        attempt.ReplyTo.Tell(new AttemptStreaming("r1", "a", StreamedBody.FromSource(TestSse.Body(Chunk("Hel"), Chunk("lo"), Chunk(null, "stop")))));

        var streaming = await s.Caller.ExpectMsgAsync<ChatStreaming>();
        Assert.Equal("a", streaming.Provider);
        Assert.Equal("Hello", Text(await Read(streaming)));
        await ExpectTerminatedAsync(s.Actor);   // the answer is whole: nothing left to decide
    }

    [Fact]
    public async Task Session_ServerError_RetriesTheSameRouteAfterBackoff()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.ServerError, 500, "HTTP 500")));
        await Handled(s.Actor);
        await s.A.ExpectNoMsgAsync(Short);   // waiting out the backoff

        Scheduler.Advance(TimeSpan.FromSeconds(1));   // retry-base-delay: the first backoff is at most this
        var retry = await s.A.ExpectMsgAsync<StartAttempt>();
        Assert.Equal(1, retry.Attempt);
        retry.ReplyTo.Tell(new AttemptStreaming("r1", "a", StreamedBody.FromSource(Source.Empty<ByteString>())));
        Assert.Equal("a", (await s.Caller.ExpectMsgAsync<ChatStreaming>()).Provider);
        await s.B.ExpectNoMsgAsync(Short);
    }

    [Fact]
    public async Task Session_Unauthorized_FallsBackToTheNextRouteAtOnce()
    {
        var s = Start(stream: false);
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.Unauthorized, 401, "HTTP 401")));

        var second = await s.B.ExpectMsgAsync<StartAttempt>();
        Assert.Equal((new RouteTarget("b", "up-b"), 1), (second.Route, second.Attempt));
        second.ReplyTo.Tell(new AttemptCompleted("r1", "b", TestSse.Json(new ChatCompletion())));
        Assert.Equal("b", (await s.Caller.ExpectMsgAsync<ChatCompleted>()).Provider);
    }

    [Fact]
    public async Task Session_TransportError_OneImmediateFreshRetryThenBackoff()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.Transport, null, "transport error: reset")));

        var fresh = await s.A.ExpectMsgAsync<StartAttempt>();   // no scheduler advance: at once
        Assert.Equal(1, fresh.Attempt);
        fresh.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.Transport, null, "transport error: reset")));
        await Handled(s.Actor);
        await s.A.ExpectNoMsgAsync(Short);   // the fresh retry is spent: this one waits a backoff

        Scheduler.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, (await s.A.ExpectMsgAsync<StartAttempt>()).Attempt);
    }

    [Fact]
    public async Task Session_CallerFault_RejectedInTheProvidersWordsWithoutFallback()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r1", "a", new UpstreamFailure(FailureKind.CallerFault, 400, "bad messages", "invalid_value", "messages")));

        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();
        Assert.Equal(new ApiError(400, "bad messages", "invalid_request_error", "messages", "invalid_value"), rejected.Error);
        await ExpectTerminatedAsync(s.Actor);
        await s.B.ExpectNoMsgAsync(Short);
    }

    [Fact]
    public async Task Session_EveryRouteFails_Rejects502NamingEachRoute()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.ModelNotFound, 404, "HTTP 404")));
        var second = await s.B.ExpectMsgAsync<StartAttempt>();
        second.ReplyTo.Tell(new AttemptFailed("r1", "b", Failure(FailureKind.Unauthorized, 401, "HTTP 401")));

        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();
        Assert.Equal(502, rejected.Error.Status);
        Assert.Contains("a (up-a): HTTP 404", rejected.Error.Message);
        Assert.Contains("b (up-b): HTTP 401", rejected.Error.Message);
        await ExpectTerminatedAsync(s.Actor);
    }

    [Fact]
    public async Task Session_TotalTimeoutBeforeAnyAnswer_Rejects504AndCancelsTheAttempt()
    {
        var s = Start(model: Brief);
        await s.A.ExpectMsgAsync<StartAttempt>();
        await Handled(s.Actor);

        Scheduler.Advance(Brief.Limits.TotalTimeout);
        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();
        Assert.Equal((504, "timeout"), (rejected.Error.Status, rejected.Error.Code));
        Assert.Equal("r1", (await s.A.ExpectMsgAsync<CancelAttempt>()).RequestId);
        await ExpectTerminatedAsync(s.Actor);
    }

    [Fact]
    public async Task Session_AttemptNeverReports_ClosedFailedAsTimeoutAndNextRouteTried()
    {
        var s = Start();
        await s.A.ExpectMsgAsync<StartAttempt>();
        await Handled(s.Actor);

        Scheduler.Advance(Model.Limits.FirstByteTimeout + TimeSpan.FromSeconds(5));   // first-byte-timeout + the outcome grace
        // Closed before anything else, so a late report of it cannot pass for the next attempt's.
        Assert.Equal("r1", (await s.A.ExpectMsgAsync<CancelAttempt>()).RequestId);
        Assert.Equal(1, (await s.B.ExpectMsgAsync<StartAttempt>()).Attempt);
    }

    [Fact]
    public async Task Session_CancelChat_CancelsTheAttemptAndStops()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        s.Actor.Tell(new CancelChat("r1"));

        Assert.Equal("r1", (await s.A.ExpectMsgAsync<CancelAttempt>()).RequestId);
        await ExpectTerminatedAsync(s.Actor);
        first.ReplyTo.Tell(new AttemptStreaming("r1", "a", StreamedBody.FromSource(Source.Empty<ByteString>())));   // too late: nobody is told
        await s.Caller.ExpectNoMsgAsync(Short);
    }

    [Fact]
    public async Task Session_StaleOutcomeAndStrayMessageWhileStreaming_IgnoredThenCancelChatStops()
    {
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe(unhandled.Ref, typeof(UnhandledMessage));
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        first.ReplyTo.Tell(new AttemptStreaming("r1", "a", StreamedBody.FromSource(Source.Empty<ByteString>())));
        await s.Caller.ExpectMsgAsync<ChatStreaming>();   // Streaming from here on

        first.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.Transport, null, "late")));   // every state: nothing to decide
        s.Actor.Tell("stray");
        Assert.Equal("stray", (await unhandled.ExpectMsgAsync<UnhandledMessage>()).Message);
        await Handled(s.Actor);
        await s.A.ExpectNoMsgAsync(Short);   // no retry for the late failure
        await unhandled.ExpectNoMsgAsync(Short);   // ... and it was handled, not unhandled

        s.Actor.Tell(new CancelChat("r1"));
        Assert.Equal("r1", (await s.A.ExpectMsgAsync<CancelAttempt>()).RequestId);
        await ExpectTerminatedAsync(s.Actor);
    }

    [Fact]
    public async Task Session_NonStreamedAnswer_CallerGetsChatCompleted()
    {
        var s = Start(stream: false);
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        var body = TestSse.Json(new ChatCompletion { Id = "chatcmpl-9" });
        first.ReplyTo.Tell(new AttemptCompleted("r1", "a", body));

        var completed = await s.Caller.ExpectMsgAsync<ChatCompleted>();
        Assert.Equal(("a", "chatcmpl-9"), (completed.Provider, completed.Parse().Id));
        await ExpectTerminatedAsync(s.Actor);
        await s.A.ExpectNoMsgAsync(Short);   // a whole answer leaves nothing to cancel
    }

    [Fact]
    public async Task Session_StreamCutAfterText_ResumesOnTheOtherRouteByReplay()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        var cut = TestSse.Body(Chunk("Hel"), Chunk("lo,")).Concat(Source.Failed<ByteString>(new IOException("reset")));
        first.ReplyTo.Tell(new AttemptStreaming("r1", "a", StreamedBody.FromSource(cut)));
        var answer = Read(await s.Caller.ExpectMsgAsync<ChatStreaming>());

        var resume = await s.B.ExpectMsgAsync<StartAttempt>();   // the other route first, at once
        Assert.Equal(1, resume.Attempt);
        resume.ReplyTo.Tell(new AttemptStreaming("r1", "b", StreamedBody.FromSource(TestSse.Body(Chunk("Hello,"), Chunk(" world"), Chunk(null, "stop")))));

        Assert.Equal("Hello, world", Text(await answer));
        await ExpectTerminatedAsync(s.Actor);
    }

    [Fact]
    public async Task Session_TotalTimeoutMidStream_CancelsTheAttemptAndTheStreamEndsWith504()
    {
        var s = Start();
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        var cancelled = new TaskCompletionSource<ByteString>();
        first.ReplyTo.Tell(new AttemptStreaming("r1", "a", StreamedBody.FromSource(TestSse.Body(Chunk("Hi")).Concat(Source.FromTask(cancelled.Task)))));
        var answer = Read(await s.Caller.ExpectMsgAsync<ChatStreaming>());
        await Handled(s.Actor);

        Scheduler.Advance(Model.Limits.TotalTimeout);
        await s.A.ExpectMsgAsync<CancelAttempt>();
        cancelled.SetException(new OperationCanceledException());   // what cancelling the attempt does to its body

        var error = await Assert.ThrowsAsync<ChatFailedException>(() => answer);
        Assert.Equal(504, error.Error.Status);
        await ExpectTerminatedAsync(s.Actor);
    }

    [Fact]
    public async Task Session_EveryRouteOpen_TriesEachAgainAsPanicTrialAndAnswers()
    {
        var s = Start(stream: false);
        var first = await s.A.ExpectMsgAsync<StartAttempt>();
        Assert.False(first.Panic);
        first.ReplyTo.Tell(new AttemptFailed("r1", "a", Open));
        (await s.B.ExpectMsgAsync<StartAttempt>()).ReplyTo.Tell(new AttemptFailed("r1", "b", Open));

        var trial = await s.A.ExpectMsgAsync<StartAttempt>();   // at once, first route first
        Assert.True(trial.Panic);
        trial.ReplyTo.Tell(new AttemptCompleted("r1", "a", TestSse.Json(new ChatCompletion())));
        Assert.Equal("a", (await s.Caller.ExpectMsgAsync<ChatCompleted>()).Provider);
        await ExpectTerminatedAsync(s.Actor);
    }

    [Fact]
    public async Task Session_EveryRouteOpenAndStillFailing_Rejects502AfterOneTrialEach()
    {
        var s = Start();
        (await s.A.ExpectMsgAsync<StartAttempt>()).ReplyTo.Tell(new AttemptFailed("r1", "a", Open));
        (await s.B.ExpectMsgAsync<StartAttempt>()).ReplyTo.Tell(new AttemptFailed("r1", "b", Open));

        var trialA = await s.A.ExpectMsgAsync<StartAttempt>();
        trialA.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.ServerError, 500, "HTTP 500")));
        var trialB = await s.B.ExpectMsgAsync<StartAttempt>();   // no backoff on a provider already held bad
        Assert.True(trialA.Panic && trialB.Panic);
        trialB.ReplyTo.Tell(new AttemptFailed("r1", "b", Failure(FailureKind.Timeout, null, "no headers in 5s")));

        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();
        Assert.Equal(502, rejected.Error.Status);
        Assert.Equal("Every route for model 'm' failed: a (up-a): HTTP 500; b (up-b): no headers in 5s.", rejected.Error.Message);
        await ExpectTerminatedAsync(s.Actor);
        await s.A.ExpectNoMsgAsync(Short);
    }

    [Fact]
    public async Task Session_OneRouteOpen_SkipsItWithoutPanic()
    {
        var s = Start(stream: false);
        (await s.A.ExpectMsgAsync<StartAttempt>()).ReplyTo.Tell(new AttemptFailed("r1", "a", Open));
        var second = await s.B.ExpectMsgAsync<StartAttempt>();
        second.ReplyTo.Tell(new AttemptFailed("r1", "b", Failure(FailureKind.Unauthorized, 401, "HTTP 401")));

        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();   // b was tried: its answer stands, a stays skipped
        Assert.Equal(502, rejected.Error.Status);
        Assert.Contains("circuit open", rejected.Error.Message);
        await s.A.ExpectNoMsgAsync(Short);
    }

    [Fact]
    public async Task Session_KeylessRouteAndOpenRoute_PanicTriesOnlyTheOneWithAKey()
    {
        // The keyless provider has no actor here: a StartAttempt for it would crash the session.
        var s = Start(stream: false, model: HalfKeyless);
        (await s.A.ExpectMsgAsync<StartAttempt>()).ReplyTo.Tell(new AttemptFailed("r1", "a", Open));
        var trial = await s.A.ExpectMsgAsync<StartAttempt>();
        Assert.True(trial.Panic);
        trial.ReplyTo.Tell(new AttemptFailed("r1", "a", Failure(FailureKind.ServerError, 500, "HTTP 500")));

        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();
        Assert.Equal(502, rejected.Error.Status);
        Assert.Contains("keyless (half-keyless): skipped, no api-key is configured", rejected.Error.Message);
    }

    [Fact]
    public async Task Session_OnlyKeylessRoutes_Rejects503WithoutTrying()
    {
        var s = Start(model: AllKeyless);
        var rejected = await s.Caller.ExpectMsgAsync<ChatRejected>();
        Assert.Equal(503, rejected.Error.Status);
        await ExpectTerminatedAsync(s.Actor);
    }
}
