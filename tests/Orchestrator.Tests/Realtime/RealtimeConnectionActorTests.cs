using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams.Dsl;
using Akka.TestKit;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Realtime;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Tests.Realtime;

/// <summary>The socket actor's lifetime and limits on virtual time, with a probe as the front.</summary>
public sealed class RealtimeConnectionActorTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private static readonly Actors.Settings.RealtimeSettings Settings = TestSettings.From("""
        orchestrator.realtime { max-lifetime = 1h, expiry-notice = 60s, max-concurrent-requests = 1 }
        """).Realtime;

    private static ChatRequest Request() => new("m", true, true, null, JsonDocument.Parse("""{"model":"m","messages":[]}""").RootElement);

    private (IActorRef Actor, Akka.TestKit.TestProbe Front, ChannelReader<RealtimeOutgoing> Out) Start()
    {
        var front = CreateTestProbe();
        var channel = Channel.CreateUnbounded<RealtimeOutgoing>();
        var actor = Sys.ActorOf(RealtimeConnectionActor.Props(Settings, front.Ref, channel.Writer, "conn", "key-1"));
        return (actor, front, channel.Reader);
    }

    private static async Task<JsonElement> NextEventAsync(ChannelReader<RealtimeOutgoing> reader)
    {
        var item = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        using var doc = JsonDocument.Parse(item.Frame);
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task Socket_NearMaxLifetime_AnnouncesExpiryRefusesNewWorkAndClosesWhenTheLastAnswerEnds()
    {
        var (actor, front, output) = Start();
        Watch(actor);
        actor.Tell(new RealtimeCreate("a", Request()));
        var create = await front.ExpectMsgAsync<CreateChat>();
        var chunks = TestSse.Answer(new ChatCompletionChunk { Id = "x", Choices = [new ChunkChoice { Delta = new ChatDelta { Content = "hi" }, FinishReason = "stop" }] })
            .Concat(Source.Never<AnswerBlock>());
        actor.Tell(new ChatStreaming(create.RequestId, "p", chunks));
        Assert.Equal("chat.completions.chunk", (await NextEventAsync(output)).GetProperty("type").GetString());

        ((TestScheduler)Sys.Scheduler).Advance(TimeSpan.FromMinutes(59));   // max-lifetime - expiry-notice
        var expiring = await NextEventAsync(output);
        Assert.Equal("session.expiring", expiring.GetProperty("type").GetString());
        Assert.Equal(60_000, expiring.GetProperty("reconnect_after_ms").GetInt64());

        actor.Tell(new RealtimeCreate("late", Request()));
        Assert.Equal("session_expiring", (await NextEventAsync(output)).GetProperty("error").GetProperty("code").GetString());
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));   // still open: "a" is in flight

        actor.Tell(new RealtimeCancel("a"));
        Assert.Equal("cancelled", (await NextEventAsync(output)).GetProperty("finish_reason").GetString());
        var close = await output.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1001, close.CloseStatus);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task Socket_OverTheConcurrencyLimit_AnswersWithAnErrorEvent()
    {
        var (actor, front, output) = Start();
        actor.Tell(new RealtimeCreate("a", Request()));
        await front.ExpectMsgAsync<CreateChat>();
        actor.Tell(new RealtimeCreate("b", Request()));
        var error = await NextEventAsync(output);
        Assert.Equal("b", error.GetProperty("id").GetString());
        Assert.Equal("too_many_requests", error.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Socket_Closed_CancelsRequestsThatHadNotStarted()
    {
        var (actor, front, _) = Start();
        actor.Tell(new RealtimeCreate("a", Request()));
        var create = await front.ExpectMsgAsync<CreateChat>();
        actor.Tell(RealtimeClosed.Instance);
        Assert.Equal(create.RequestId, (await front.ExpectMsgAsync<CancelChat>()).RequestId);
    }
}
