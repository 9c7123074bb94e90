using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Upstream;

/// <summary>Circuit breaker, 429 park, health checks and connection rotation of a provider, on virtual time.</summary>
public sealed class ProviderHealthTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private static readonly OrchestratorSettings Settings = TestSettings.From("""
        orchestrator.providers {
          p {
            kind = simulator
            upstream {
              breaker { max-failures = 2, reset-timeout = 30s }
              health-check-interval = 10s
              max-lifetime = 1h
            }
          }
          unprobed {
            kind = simulator
            upstream.breaker { max-failures = 2, reset-timeout = 30s }
          }
        }
        orchestrator.models { m { routes = [ { provider = p } ] } }
        """);

    /// <summary>Breaker tests run without health checks: a passing probe would close the circuit under them.</summary>
    private static readonly ProviderSettings Unprobed = Settings.Providers["unprobed"] with { Name = "p" };
    private static readonly ProviderSettings Probed = Settings.Providers["p"];

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    /// <summary>A client per connection: answers at once, or streams until <see cref="EndStream"/>; its probe fails while <see cref="Down"/>.</summary>
    private sealed class FakeClient : IUpstreamClient
    {
        private readonly TaskCompletionSource<ChatCompletionChunk> _streamEnd = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls;
        public bool Disposed;
        public volatile bool Down;

        public Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            if (!call.Request.Stream) return Task.FromResult<UpstreamResponse>(new UpstreamCompletion(TestSse.Json(new ChatCompletion { Id = call.RequestId })));
            var chunks = Source.FromTask(_streamEnd.Task).Select(Orchestrator.Actors.Streams.SseBytes.Event);
            return Task.FromResult<UpstreamResponse>(new UpstreamStream(StreamedBody.FromSource(chunks, new CancellationTokenSource())));
        }

        public void EndStream() => _streamEnd.TrySetResult(new ChatCompletionChunk { Id = "last" });

        public Task ProbeAsync(TimeSpan timeout) => Down ? Task.FromException(new HttpRequestException("connection refused")) : Task.CompletedTask;

        public UpstreamMeters Meters { get; } = new();

        public void Dispose() => Disposed = true;
    }

    private readonly List<FakeClient> _clients = [];

    private IActorRef StartProvider(bool probed = false) => Sys.ActorOf(ProviderSupervisor.Props(probed ? Probed : Unprobed, _ =>
    {
        var client = new FakeClient();
        lock (_clients) _clients.Add(client);
        return client;
    }));

    private static StartAttempt Attempt(string id, IActorRef replyTo, bool stream = false, bool panic = false) =>
        new(id, new ChatRequest("m", stream, false, null, System.Text.Json.JsonDocument.Parse("{}").RootElement), new RouteTarget("p", "m"), 0, TimeSpan.FromSeconds(30), replyTo)
        {
            Panic = panic,
        };

    private static readonly UpstreamFailure ServerError = new(FailureKind.ServerError, 500, "HTTP 500");

    private async Task<ProviderStatus> StatusAsync(IActorRef provider)
    {
        provider.Tell(GetProviderStatus.Instance, TestActor);
        return await ExpectMsgAsync<ProviderStatus>();
    }

    [Fact]
    public async Task Breaker_ConsecutiveFailures_OpensThenOneHalfOpenTrialClosesIt()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(new AttemptSettled("a", ServerError));
        provider.Tell(new AttemptSettled("b", ServerError));

        provider.Tell(Attempt("c", asker.Ref));
        var refused = await asker.ExpectMsgAsync<AttemptFailed>();
        Assert.Equal(FailureKind.Unavailable, refused.Failure.Kind);
        Assert.Equal("open", (await StatusAsync(provider)).State);

        Scheduler.Advance(TimeSpan.FromSeconds(30));   // reset-timeout
        provider.Tell(Attempt("trial", asker.Ref, stream: true));
        await asker.ExpectMsgAsync<AttemptStreaming>();   // the trial goes through, and is still streaming
        provider.Tell(Attempt("d", asker.Ref));
        Assert.Contains("trial", (await asker.ExpectMsgAsync<AttemptFailed>()).Failure.Message);   // only one trial at a time

        provider.Tell(new AttemptSettled("trial", null));
        provider.Tell(Attempt("e", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();
        Assert.Equal("healthy", (await StatusAsync(provider)).State);
    }

    [Fact]
    public async Task Breaker_HalfOpenTrialFails_OpensAgain()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(new AttemptSettled("a", ServerError));
        provider.Tell(new AttemptSettled("b", ServerError));
        Assert.Equal("open", (await StatusAsync(provider)).State);
        Scheduler.Advance(TimeSpan.FromSeconds(30));
        provider.Tell(Attempt("trial", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();
        provider.Tell(new AttemptSettled("trial", ServerError));

        provider.Tell(Attempt("f", asker.Ref));
        Assert.Equal(FailureKind.Unavailable, (await asker.ExpectMsgAsync<AttemptFailed>()).Failure.Kind);
    }

    [Fact]
    public async Task Breaker_OpenAndPanicAttemptSucceeds_AdmittedAndTheCircuitCloses()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(new AttemptSettled("a", ServerError));
        provider.Tell(new AttemptSettled("b", ServerError));
        provider.Tell(Attempt("c", asker.Ref));
        Assert.Equal(FailureKind.Unavailable, (await asker.ExpectMsgAsync<AttemptFailed>()).Failure.Kind);   // still open

        provider.Tell(Attempt("c", asker.Ref, panic: true));   // no reset-timeout waited: every route of its model is open
        await asker.ExpectMsgAsync<AttemptCompleted>();
        provider.Tell(new AttemptSettled("c", null) { Panic = true });

        var status = await StatusAsync(provider);
        Assert.Equal(("healthy", 1L), (status.State, status.Counters.PanicTrials));
        provider.Tell(Attempt("d", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();   // normal traffic again
    }

    [Fact]
    public async Task Breaker_OpenAndPanicAttemptFails_StaysOpenUntilItsOwnTimer()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(new AttemptSettled("a", ServerError));
        provider.Tell(new AttemptSettled("b", ServerError));
        Assert.Equal("open", (await StatusAsync(provider)).State);   // opened now, before the clock moves
        Scheduler.Advance(TimeSpan.FromSeconds(20));

        provider.Tell(Attempt("c", asker.Ref, panic: true));
        await asker.ExpectMsgAsync<AttemptCompleted>();
        provider.Tell(new AttemptSettled("c", ServerError) { Panic = true });
        var status = await StatusAsync(provider);
        Assert.Equal(("open", 3), (status.State, status.ConsecutiveFailures));

        provider.Tell(Attempt("d", asker.Ref));
        Assert.Equal(FailureKind.Unavailable, (await asker.ExpectMsgAsync<AttemptFailed>()).Failure.Kind);
        Scheduler.Advance(TimeSpan.FromSeconds(10));   // the timer set when it opened, not restarted by the panic trial
        provider.Tell(Attempt("trial", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();
    }

    [Fact]
    public async Task Park_PanicAttemptSucceeds_LiftsThePark()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(new AttemptSettled("a", new UpstreamFailure(FailureKind.RateLimited, 429, "HTTP 429") { RetryAfter = TimeSpan.FromMinutes(5) }));

        provider.Tell(Attempt("b", asker.Ref, panic: true));
        await asker.ExpectMsgAsync<AttemptCompleted>();
        Assert.Equal("parked", (await StatusAsync(provider)).State);   // nothing learnt before the verdict
        provider.Tell(new AttemptSettled("b", null) { Panic = true });

        Assert.Equal("healthy", (await StatusAsync(provider)).State);
        provider.Tell(Attempt("c", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();
    }

    [Fact]
    public async Task RateLimitedWithRetryAfter_ParksTheProviderUntilThen()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(new AttemptSettled("a", new UpstreamFailure(FailureKind.RateLimited, 429, "HTTP 429") { RetryAfter = TimeSpan.FromSeconds(10) }));
        Assert.Equal("parked", (await StatusAsync(provider)).State);

        provider.Tell(Attempt("b", asker.Ref));
        var parked = await asker.ExpectMsgAsync<AttemptFailed>();
        Assert.Equal(FailureKind.Unavailable, parked.Failure.Kind);
        Assert.Equal(TimeSpan.FromSeconds(10), parked.Failure.RetryAfter);

        Scheduler.Advance(TimeSpan.FromSeconds(10));
        provider.Tell(Attempt("c", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();
    }

    [Fact]
    public async Task HealthCheck_RecordsResultAndFailuresFeedTheBreaker()
    {
        var provider = StartProvider(probed: true);
        await StatusAsync(provider);   // started: its health-check timer is running
        _clients[0].Down = true;

        Scheduler.Advance(TimeSpan.FromSeconds(1));   // first check
        await AwaitAssertAsync(async () =>
        {
            var status = await StatusAsync(provider);
            Assert.False(status.LastHealthCheck!.Ok);
            Assert.Equal("degraded", status.State);
        });
        Scheduler.Advance(TimeSpan.FromSeconds(10));   // second failed check: max-failures reached
        await AwaitAssertAsync(async () => Assert.Equal("open", (await StatusAsync(provider)).State));

        _clients[0].Down = false;
        Scheduler.Advance(TimeSpan.FromSeconds(10));   // it answers again: traffic returns at once
        await AwaitAssertAsync(async () => Assert.Equal("healthy", (await StatusAsync(provider)).State));
    }

    [Fact]
    public async Task Connection_MaxLifetimeReached_RotatesWithoutCuttingTheStreamOnIt()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(Attempt("long", asker.Ref, stream: true));
        var streaming = await asker.ExpectMsgAsync<AttemptStreaming>();
        var received = TestSse.Chunks(streaming.Body).RunWith(Sink.Seq<ChatCompletionChunk>(), Sys.Materializer());

        Scheduler.Advance(TimeSpan.FromHours(1));   // max-lifetime
        await AwaitAssertAsync(async () => Assert.Equal(1, (await StatusAsync(provider)).Counters.Rotations));
        Assert.Equal(2, _clients.Count);
        Assert.False(_clients[0].Disposed);   // its stream is still running

        provider.Tell(Attempt("new", asker.Ref));
        await asker.ExpectMsgAsync<AttemptCompleted>();
        Assert.Equal(1, _clients[1].Calls);   // new requests go to the new connection

        _clients[0].EndStream();
        Assert.Equal("last", Assert.Single(await received.WaitAsync(TimeSpan.FromSeconds(5))).Id);
        await AwaitAssertAsync(() => Assert.True(_clients[0].Disposed));   // closed once its last stream ended
    }

    [Fact]
    public async Task Connection_Crashes_IsReplacedAfterBackoffAndTheProviderKeepsServing()
    {
        var provider = StartProvider();
        var asker = CreateTestProbe();
        provider.Tell(Attempt("on-old", asker.Ref, stream: true));
        await asker.ExpectMsgAsync<AttemptStreaming>();
        var first = await Sys.ActorSelection(provider.Path / "conn-1").ResolveOne(TimeSpan.FromSeconds(5));
        Watch(first);

        first.Tell(Kill.Instance);   // a real crash: ActorKilledException, decided by the provider's strategy
        await ExpectTerminatedAsync(first);
        Assert.True(_clients[0].Disposed);   // its socket pool is closed with it

        // The death notice is a system message, handled before this attempt: refused briefly, so the session retries.
        provider.Tell(Attempt("meanwhile", asker.Ref));
        var refused = await asker.ExpectMsgAsync<AttemptFailed>();
        Assert.Equal(FailureKind.Unavailable, refused.Failure.Kind);
        Assert.Equal(Unprobed.Upstream.RetryBaseDelay, refused.Failure.RetryAfter);
        Assert.Single(_clients);   // nothing opened before the backoff

        Scheduler.Advance(Unprobed.Upstream.RetryBaseDelay);   // the first crash in a row waits at most retry-base-delay
        provider.Tell(Attempt("after", asker.Ref));
        Assert.Contains("\"id\":\"after\"", System.Text.Encoding.UTF8.GetString((await asker.ExpectMsgAsync<AttemptCompleted>()).Body.Span));
        Assert.Equal(2, _clients.Count);
        Assert.Equal(1, _clients[1].Calls);   // served by the replacement
        var replacement = await Sys.ActorSelection(provider.Path / "conn-2").ResolveOne(TimeSpan.FromSeconds(5));
        Assert.NotEqual(first, replacement);
        var status = await StatusAsync(provider);
        Assert.Equal("healthy", status.State);   // a crash of ours is not the provider's failure
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Equal(0, status.InFlightStreams);   // the stream that died with the old connection is not counted on
    }
}
