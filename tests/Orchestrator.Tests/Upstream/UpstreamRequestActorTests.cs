using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Upstream;

public sealed class UpstreamRequestActorTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private static readonly TimeSpan FirstByteTimeout = TestSettings.From("").Models[0].Limits.FirstByteTimeout;

    private static StartAttempt Attempt(IActorRef replyTo) => new("req-1",
        new ChatRequest("m", true, false, null, System.Text.Json.JsonDocument.Parse("{}").RootElement), new RouteTarget("p", "m"), 0, FirstByteTimeout, replyTo);

    /// <summary>A provider that takes the request and never answers, until the call is cancelled.</summary>
    private sealed class SilentUpstream : IUpstreamClient
    {
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
        {
            await using var _ = cancellationToken.Register(() => Cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new System.Diagnostics.UnreachableException();
        }

        public Task ProbeAsync(TimeSpan timeout) => Task.CompletedTask;

        public UpstreamMeters Meters { get; } = new();

        public void Dispose()
        {
        }
    }

    private sealed class ThrowingUpstream(Exception exception) : IUpstreamClient
    {
        public Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken) => Task.FromException<UpstreamResponse>(exception);

        public Task ProbeAsync(TimeSpan timeout) => Task.CompletedTask;

        public UpstreamMeters Meters { get; } = new();

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Request_NoHeadersWithinFirstByteTimeout_FailsAsTimeoutAndCancelsTheCall()
    {
        var parent = CreateTestProbe();
        var upstream = new SilentUpstream();
        var request = parent.ChildActorOf(UpstreamRequestActor.Props(Attempt(parent.Ref), upstream));
        parent.Watch(request);

        await parent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        ((TestScheduler)Sys.Scheduler).Advance(FirstByteTimeout);   // 30 s pass at once

        var failed = await parent.ExpectMsgAsync<AttemptFailed>();
        Assert.Equal(FailureKind.Timeout, failed.Failure.Kind);
        await parent.ExpectTerminatedAsync(request);
        await upstream.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Request_ConnectRefused_ReportsTransportFailure()
    {
        var parent = CreateTestProbe();
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new System.Net.Sockets.SocketException(111));
        parent.ChildActorOf(UpstreamRequestActor.Props(Attempt(parent.Ref), new ThrowingUpstream(refused)));

        var failed = await parent.ExpectMsgAsync<AttemptFailed>();
        Assert.Equal(FailureKind.Transport, failed.Failure.Kind);
        Assert.Contains("ConnectionError", failed.Failure.Message);
    }

    [Fact]
    public async Task Request_StrayMessageWhileSending_PublishedAsUnhandledAndKeepsWaiting()
    {
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe(unhandled.Ref, typeof(UnhandledMessage));
        var parent = CreateTestProbe();
        var request = parent.ChildActorOf(UpstreamRequestActor.Props(Attempt(parent.Ref), new SilentUpstream()));

        request.Tell(BodyReadStarted.Instance);   // only a stream handed over is read
        Assert.IsType<BodyReadStarted>((await unhandled.ExpectMsgAsync<UnhandledMessage>()).Message);
        ((TestScheduler)Sys.Scheduler).Advance(FirstByteTimeout);

        Assert.Equal(FailureKind.Timeout, (await parent.ExpectMsgAsync<AttemptFailed>()).Failure.Kind);   // still Sending
    }

    [Fact]
    public async Task Request_Cancelled_StopsAndCancelsTheCall()
    {
        var parent = CreateTestProbe();
        var upstream = new SilentUpstream();
        var request = parent.ChildActorOf(UpstreamRequestActor.Props(Attempt(parent.Ref), upstream));
        parent.Watch(request);

        request.Tell(new CancelAttempt("req-1"));

        await parent.ExpectTerminatedAsync(request);
        await upstream.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
