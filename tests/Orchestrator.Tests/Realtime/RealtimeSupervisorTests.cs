using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.TestKit.Configs;
using Orchestrator.Actors.Realtime;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Tests.Realtime;

/// <summary>A socket's actor under <see cref="RealtimeSupervisor"/>: bounded even for a client that never reads, and a crash stops it with 1011.</summary>
public sealed class RealtimeSupervisorTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private const int SendBufferFrames = 4;

    private static readonly Actors.Settings.RealtimeSettings Settings = TestSettings.From($$"""
        orchestrator.realtime { send-buffer-frames = {{SendBufferFrames}} }
        """).Realtime;

    private static ChatRequest Request() => new("m", true, true, null, JsonDocument.Parse("""{"model":"m","messages":[]}""").RootElement);

    /// <summary>As the host makes it: the send queue holds send-buffer-frames.</summary>
    private async Task<(IActorRef Connection, Akka.TestKit.TestProbe Front, Channel<RealtimeOutgoing> Out)> StartAsync()
    {
        var front = CreateTestProbe();
        var supervisor = Sys.ActorOf(RealtimeSupervisor.Props(Settings, front.Ref));
        var channel = Channel.CreateBounded<RealtimeOutgoing>(new BoundedChannelOptions(SendBufferFrames) { SingleReader = true });
        supervisor.Tell(new StartRealtimeConnection("conn", channel.Writer, "key-1"));
        var started = await ExpectMsgAsync<RealtimeConnectionStarted>();
        Watch(started.Connection);
        return (started.Connection, front, channel);
    }

    private static async Task<List<RealtimeOutgoing>> DrainAsync(ChannelReader<RealtimeOutgoing> reader)
    {
        var items = new List<RealtimeOutgoing>();
        await foreach (var item in reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token)) items.Add(item);
        return items;
    }

    [Fact]
    public async Task Connection_BadFramesFromAClientThatNeverReads_StopsWithTheQueueBounded()
    {
        var (connection, front, output) = await StartAsync();
        connection.Tell(new RealtimeCreate("a", Request()));
        await front.ExpectMsgAsync<CreateChat>();

        var bad = ApiError.InvalidRequest("Unknown message type 'x'.", "type", "unknown_type");
        for (var i = 0; i < 2_000; i++) connection.Tell(new RealtimeInvalid($"bad-{i}", bad));

        await ExpectTerminatedAsync(connection);   // stopped, not restarted with "a" forgotten
        Assert.Equal("conn/a", (await front.ExpectMsgAsync<CancelChat>()).RequestId);
        var sent = await DrainAsync(output.Reader);
        Assert.Equal(SendBufferFrames, sent.Count);   // what fit the queue; the rest was never buffered
    }

    [Fact]
    public async Task Connection_Crash_StopsCancelsItsRequestsAndCloses1011()
    {
        var (connection, front, output) = await StartAsync();
        connection.Tell(new RealtimeCreate("a", Request()));
        var create = await front.ExpectMsgAsync<CreateChat>();

        connection.Tell(new ChatStreaming(create.RequestId, "p", null!));   // a bug of ours: the handler throws

        await ExpectTerminatedAsync(connection);
        Assert.Equal(create.RequestId, (await front.ExpectMsgAsync<CancelChat>()).RequestId);
        var close = Assert.Single(await DrainAsync(output.Reader));
        Assert.Equal(1011, close.CloseStatus);
    }
}
