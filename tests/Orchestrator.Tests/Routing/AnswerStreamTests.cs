using System.Collections.Immutable;
using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Streams;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Routing;

/// <summary>The end-of-stream rules, watchdogs and splicing of the answer stream; timers run on the test scheduler.</summary>
public sealed class AnswerStreamTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private static readonly SegmentLimits Limits = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20), IncludeUsage: false, SingleChoice: true);

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private static ChatCompletionChunk Chunk(string? content, string? finish = null, bool role = false, string id = "chatcmpl-1") => new()
    {
        Id = id,
        Created = 1,
        Model = "m",
        Choices = [new ChunkChoice { Delta = new ChatDelta { Role = role ? "assistant" : null, Content = content }, FinishReason = finish }],
    };

    /// <summary>Stands for <c>data: [DONE]</c> in a test's chunk list.</summary>
    private static readonly ChatCompletionChunk Done = new() { Id = "[DONE]" };

    /// <summary>The upstream body for these chunks, one read each.</summary>
    private static Source<ByteString, NotUsed> Body(Source<ChatCompletionChunk, NotUsed> chunks) =>
        chunks.Select(c => ReferenceEquals(c, Done) ? SseBytes.Done : SseBytes.Event(c));

    /// <summary>Why a later segment (the one a test runs with its plan) failed, as the session hears it.</summary>
    private readonly TaskCompletionSource<Exception> _laterFailure = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The answer stream over these chunks with this plan. A later segment's plan is reached the way the session
    /// reaches it: a first segment that fails at once, and a session that answers with this body and plan.
    /// </summary>
    private Task<IImmutableList<ChatCompletionChunk>> Run(Source<ChatCompletionChunk, NotUsed> upstream, Transcript transcript, SegmentPlan plan,
        TaskCompletionSource? passed = null)
    {
        var body = StreamedBody.FromSource(Body(upstream));
        var answer = plan == SegmentPlan.First
            ? AnswerStream.Source(body, transcript, Limits, null, TimeSpan.FromSeconds(5))
            : AnswerStream.Source(StreamedBody.FromSource(Source.Failed<ByteString>(new IOException("cut"))), transcript, Limits,
                ActorOf(dsl =>
                {
                    var answered = false;
                    dsl.Receive<AnswerStream.SegmentFailed>((failed, context) =>
                    {
                        if (answered)
                        {
                            // The segment under test failed: the test reads why; the stream ends.
                            _laterFailure.TrySetResult(failed.Cause);
                            context.Sender.Tell(new AnswerStream.GiveUp(Orchestrator.Messages.Chat.ApiError.Internal("segment failed")), context.Self);
                            return;
                        }
                        answered = true;
                        context.Sender.Tell(new AnswerStream.NextSegment(body, plan, Limits), context.Self);
                    });
                }),
                TimeSpan.FromSeconds(5));
        return answer
            .WireTap(_ => passed?.TrySetResult())   // tells the test a chunk is through, so the stage and its timers are running
            .SelectMany(block => block.ReadChunks())
            .RunWith(Sink.Seq<ChatCompletionChunk>(), Sys.Materializer());
    }

    private static string Text(IEnumerable<ChatCompletionChunk> chunks) => string.Concat(chunks.Select(c => c.Choices.FirstOrDefault()?.Delta.Content));

    [Fact]
    public async Task Segment_EndsAfterFinishReasonWithoutDone_Completes()
    {
        var transcript = new Transcript();
        var chunks = await Run(Source.From([Chunk("", role: true), Chunk("Hel"), Chunk("lo"), Chunk(null, "stop")]), transcript, SegmentPlan.First);
        Assert.Equal("Hello", Text(chunks));
        Assert.True(transcript.Finished);
    }

    [Fact]
    public async Task Segment_EndsBeforeFinishReason_FailsAsTruncated()
    {
        var run = Run(Source.From([Chunk("", role: true), Chunk("Hel")]), new Transcript(), SegmentPlan.First);
        await Assert.ThrowsAsync<UpstreamTruncatedException>(() => run);
    }

    [Fact]
    public async Task Segment_DoneWithoutFinishReason_Completes()
    {
        var chunks = await Run(Source.From([Chunk("Hi"), Done, Chunk("never")]), new Transcript(), SegmentPlan.First);
        Assert.Equal("Hi", Text(chunks));
    }

    [Fact]
    public async Task Segment_FinishWithoutIncludeUsage_CompletesWithoutWaitingForTheSocket()
    {
        var chunks = await Run(Source.From([Chunk("Hi"), Chunk(null, "stop")]).Concat(Source.Never<ChatCompletionChunk>()), new Transcript(), SegmentPlan.First)
            .WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, chunks.Count);
    }

    [Fact]
    public async Task Segment_NoContentWithinFirstTokenTimeout_FailsAsTimeout()
    {
        var passed = new TaskCompletionSource();
        var run = Run(Source.Single(Chunk("", role: true)).Concat(Source.Never<ChatCompletionChunk>()), new Transcript(), SegmentPlan.First, passed);
        await passed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(run.IsCompleted);
        Scheduler.Advance(Limits.FirstTokenTimeout);
        var error = await Assert.ThrowsAsync<UpstreamTimeoutException>(() => run.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("first-token-timeout", error.Message);
    }

    [Fact]
    public async Task Segment_QuietPastIdleTimeoutMidAnswer_FailsAsTimeout()
    {
        var passed = new TaskCompletionSource();
        var run = Run(Source.From([Chunk("Hel")]).Concat(Source.Never<ChatCompletionChunk>()), new Transcript(), SegmentPlan.First, passed);
        await passed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        // The watchdog checks every idle-timeout / 4; a quiet stream fails within 1.25 x idle-timeout.
        await AwaitAssertAsync(() =>
        {
            Scheduler.Advance(TimeSpan.FromSeconds(5));
            Assert.True(run.IsCompleted);
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(20));
        var error = await Assert.ThrowsAsync<UpstreamTimeoutException>(() => run.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("idle-timeout", error.Message);
    }

    [Fact]
    public async Task Segment_Replay_WithholdsTheRepeatedTextAndKeepsTheFirstId()
    {
        var transcript = new Transcript();
        await Run(Source.From([Chunk("", role: true), Chunk("Hel"), Chunk("lo,")]).Concat(Source.Failed<ChatCompletionChunk>(new IOException("reset"))), transcript, SegmentPlan.First)
            .ContinueWith(_ => { });
        Assert.Equal("Hello,", transcript.Snapshot().Text);

        var replay = new SegmentPlan(true, ResumeStrategy.Replay, "Hello,");
        var chunks = await Run(Source.From([Chunk("", role: true, id: "chatcmpl-2"), Chunk("Hello", id: "chatcmpl-2"), Chunk(", wor", id: "chatcmpl-2"), Chunk("ld!", id: "chatcmpl-2"), Chunk(null, "stop", id: "chatcmpl-2")]),
            transcript, replay);

        Assert.Equal(" world!", Text(chunks));
        Assert.All(chunks, c => Assert.Equal("chatcmpl-1", c.Id));
        Assert.True(chunks[^1].Extra!.ContainsKey("orchestrator"));
        Assert.Equal("Hello, world!", transcript.Snapshot().Text);
    }

    [Fact]
    public async Task Segment_ReplayDiffers_FailsAsDiverged()
    {
        var transcript = new Transcript();
        await Run(Source.From([Chunk("Hello,")]).Concat(Source.Failed<ChatCompletionChunk>(new IOException("reset"))), transcript, SegmentPlan.First).ContinueWith(_ => { });
        var run = Run(Source.From([Chunk("Goodbye"), Chunk(null, "stop")]), transcript, new SegmentPlan(true, ResumeStrategy.Replay, "Hello,"));
        await Assert.ThrowsAsync<ChatFailedException>(() => run.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.IsType<ReplayDivergedException>(await _laterFailure.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Segment_ClientNotReading_IsNotMistakenForAnIdleUpstream()
    {
        var queue = AnswerStream.Source(StreamedBody.FromSource(Body(Source.From([Chunk("Hel"), Chunk("lo")])).Concat(Source.Never<ByteString>())),
                new Transcript(), Limits, null, TimeSpan.FromSeconds(5))
            .AddAttributes(Attributes.CreateInputBuffer(1, 1))
            .RunWith(Sink.Queue<AnswerBlock>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), Sys.Materializer());

        var first = await queue.PullAsync().WaitAsync(TimeSpan.FromSeconds(5));   // then the client stops reading
        Assert.Equal("Hel", first.Value.ReadChunks()[0].Choices[0].Delta.Content);
        for (var i = 0; i < 8; i++) Scheduler.Advance(TimeSpan.FromSeconds(10));   // 80 s, four idle-timeouts
        Assert.Equal("lo", (await queue.PullAsync().WaitAsync(TimeSpan.FromSeconds(5))).Value.ReadChunks()[0].Choices[0].Delta.Content);

        // Now it reads and the upstream is quiet: that is a dead peer.
        var next = queue.PullAsync();
        await AwaitAssertAsync(() =>
        {
            Scheduler.Advance(TimeSpan.FromSeconds(5));
            Assert.True(next.IsCompleted);
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAsync<UpstreamTimeoutException>(() => next);
    }

    [Theory]
    [InlineData("Hello,", new[] { "Hel", "lo," }, "")]                  // the replay ends exactly where the cut was
    [InlineData("Hello, ", new[] { "Hello", ",", " world", "!" }, "world!")]   // the seam's space is not doubled
    public async Task Segment_Replay_SeamAndFinish(string sent, string[] replayed, string expected)
    {
        var transcript = new Transcript();
        await Run(Source.From([Chunk(sent)]).Concat(Source.Failed<ChatCompletionChunk>(new IOException("reset"))), transcript, SegmentPlan.First).ContinueWith(_ => { });
        var pieces = replayed.Select(p => Chunk(p, id: "chatcmpl-2")).Append(Chunk(null, "stop", id: "chatcmpl-2"));
        var chunks = await Run(Source.From(pieces), transcript, new SegmentPlan(true, ResumeStrategy.Replay, sent));

        Assert.Equal(expected, Text(chunks));
        Assert.Equal("stop", chunks[^1].Choices[0].FinishReason);
        Assert.Equal(sent + expected, transcript.Snapshot().Text);
    }
}
