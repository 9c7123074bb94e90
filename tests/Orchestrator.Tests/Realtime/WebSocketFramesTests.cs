using System.Net.WebSockets;
using System.Text;
using Akka.Streams;
using Akka.Streams.TestKit;
using Orchestrator.Messages.Upstream;
using Orchestrator.Actors.Realtime;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Tests.Realtime;

/// <summary>
/// The WebSocket source over a real socket pair on loopback: it receives only on demand, hands out whole messages
/// however they were framed, fails past the cap, flags binary, and waits for a message without a read buffer.
/// </summary>
public sealed class WebSocketFramesTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING", output)
{
    private const int MaxBytes = 64 * 1024;
    private static readonly TimeSpan NoDemandWindow = TimeSpan.FromMilliseconds(200);

    private IMaterializer Materializer => Sys.Materializer();

    private static string TextOf(WebSocketMessage message)
    {
        Assert.False(message.IsBinary);
        return Encoding.UTF8.GetString(message.Payload.Span);
    }

    private TestSubscriber.Probe<WebSocketMessage> Run(WebSocket socket, int maxBytes = MaxBytes, ReadBufferGauge? gauge = null) =>
        WebSocketFrames.Source(socket, maxBytes, buffers: gauge).RunWith(this.SinkProbe<WebSocketMessage>(), Materializer);

    [Fact]
    public async Task Frames_NoDemand_ReceivesNothingUntilAsked()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        foreach (var text in new[] { "one", "two", "three" }) await pair.SendTextAsync(Encoding.UTF8.GetBytes(text));
        var probe = Run(pair.Server);

        await probe.ExpectSubscriptionAsync();
        await probe.ExpectNoMsgAsync(NoDemandWindow);   // three messages are there, nobody asked
        Assert.Equal(0, pair.Server.Receives);

        probe.Request(1);
        Assert.Equal("one", TextOf(await probe.ExpectNextAsync()));
        var receivesForOne = pair.Server.Receives;
        await probe.ExpectNoMsgAsync(NoDemandWindow);   // two more are there: still nobody asked
        Assert.Equal(receivesForOne, pair.Server.Receives);
        Assert.False(pair.Server.Pending);

        probe.Request(2);
        Assert.Equal("two", TextOf(await probe.ExpectNextAsync()));
        Assert.Equal("three", TextOf(await probe.ExpectNextAsync()));
        probe.Cancel();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public async Task Frames_MessageSplitOverFrames_ComesOutWholeAndExact(int frameBytes)
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        // Multi-byte characters, so a frame boundary falls inside one.
        var message = Encoding.UTF8.GetBytes("""{"type":"chat.completions.create","content":"héllo 世界 🎉"}""");
        for (var offset = 0; offset < message.Length; offset += frameBytes)
        {
            var length = Math.Min(frameBytes, message.Length - offset);
            await pair.SendTextAsync(message.AsMemory(offset, length), endOfMessage: offset + length == message.Length);
        }
        var probe = Run(pair.Server);

        probe.Request(1);
        Assert.Equal(message, (await probe.ExpectNextAsync()).Payload.ToArray());
        probe.Cancel();
    }

    [Fact]
    public async Task Frames_MessageLargerThanTheFirstBuffer_GrowsAndComesOutWhole()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        var message = new byte[3 * WebSocketFrames.FirstReadBytes + 5];
        new Random(7).NextBytes(message);
        for (var i = 0; i < message.Length; i++) message[i] = (byte)('a' + message[i] % 26);   // text must be UTF-8
        var gauge = new ReadBufferGauge();
        var probe = Run(pair.Server, gauge: gauge);
        probe.Request(1);

        // An empty first frame, then uneven frames across every buffer boundary.
        await pair.SendTextAsync(ReadOnlyMemory<byte>.Empty, endOfMessage: false);
        var offset = 0;
        foreach (var length in new[] { 10_000, 20_000, 1, message.Length - 30_001 })
        {
            await pair.SendTextAsync(message.AsMemory(offset, length), endOfMessage: offset + length == message.Length);
            offset += length;
        }
        Assert.Equal(message, (await probe.ExpectNextAsync()).Payload.ToArray());
        Assert.Equal(0, gauge.Held);   // the copy left; the buffer went back to the pool
        probe.Cancel();
    }

    [Fact]
    public async Task Frames_EmptyMessage_ComesOutEmpty()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        await pair.SendTextAsync(ReadOnlyMemory<byte>.Empty);
        await pair.SendTextAsync("x"u8.ToArray());
        var probe = Run(pair.Server);

        probe.Request(2);
        Assert.Equal("", TextOf(await probe.ExpectNextAsync()));
        Assert.Equal("x", TextOf(await probe.ExpectNextAsync()));
        probe.Cancel();
    }

    [Theory]
    [InlineData(WebSocketMessageType.Text, 1)]
    [InlineData(WebSocketMessageType.Text, 3)]
    [InlineData(WebSocketMessageType.Binary, 1)]
    public async Task Frames_MessageOverTheCap_FailsWithMessageTooBig(WebSocketMessageType type, int frames)
    {
        const int cap = 100;
        await using var pair = await WebSocketPair.ConnectAsync();
        await pair.SendTextAsync(Enumerable.Repeat((byte)'a', cap).ToArray());   // exactly the cap is fine
        var tooBig = Enumerable.Repeat((byte)'b', cap + 1).ToArray();
        var frameBytes = (tooBig.Length + frames - 1) / frames;
        for (var offset = 0; offset < tooBig.Length; offset += frameBytes)
        {
            var length = Math.Min(frameBytes, tooBig.Length - offset);
            await pair.Client.SendAsync(tooBig.AsMemory(offset, length), type, offset + length == tooBig.Length, CancellationToken.None);
        }
        var gauge = new ReadBufferGauge();
        var probe = Run(pair.Server, cap, gauge);

        probe.Request(2);
        Assert.Equal(cap, (await probe.ExpectNextAsync()).Payload.Length);
        var error = Assert.IsType<WebSocketMessageTooBigException>(await probe.ExpectErrorAsync());
        Assert.Equal(cap, error.MaxMessageBytes);
        Assert.Equal(0, gauge.Held);
        Assert.Equal(WebSocketState.Open, pair.Server.State);   // the host still owns it and closes it with 1009
    }

    [Fact]
    public async Task Frames_BinaryMessage_IsFlaggedAndTheNextMessageStillComes()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        await pair.Client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, false, CancellationToken.None);
        await pair.Client.SendAsync(new byte[] { 4 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await pair.SendTextAsync("after"u8.ToArray());
        var probe = Run(pair.Server);

        probe.Request(2);
        var binary = await probe.ExpectNextAsync();
        Assert.True(binary.IsBinary);
        Assert.True(binary.Payload.IsEmpty);
        Assert.Equal("after", TextOf(await probe.ExpectNextAsync()));
        probe.Cancel();
    }

    [Fact]
    public async Task Frames_WaitingForAMessage_HoldsNoReadBuffer()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        var gauge = new ReadBufferGauge();
        var probe = Run(pair.Server, gauge: gauge);

        probe.Request(1);   // the peer says nothing: the receive waits
        await probe.ExpectNoMsgAsync(NoDemandWindow);
        Assert.True(pair.Server.Pending);
        Assert.Equal(0, pair.Server.LastBufferLength);   // a zero-byte receive
        Assert.Equal(0, gauge.Held);

        await pair.SendTextAsync("hello"u8.ToArray());
        Assert.Equal("hello", TextOf(await probe.ExpectNextAsync()));
        Assert.Equal(0, gauge.Held);
        probe.Request(1);
        await probe.ExpectNoMsgAsync(NoDemandWindow);
        Assert.Equal(0, pair.Server.LastBufferLength);
        Assert.Equal(0, gauge.Held);
        probe.Cancel();
    }

    [Fact]
    public async Task Frames_PeerCloses_Completes()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        await pair.SendTextAsync("last"u8.ToArray());
        await pair.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        var probe = Run(pair.Server);

        probe.Request(2);
        Assert.Equal("last", TextOf(await probe.ExpectNextAsync()));
        await probe.ExpectCompleteAsync();
        Assert.Equal(WebSocketState.CloseReceived, pair.Server.State);   // the host answers the close, not the stage
    }

    [Fact]
    public async Task Frames_PeerVanishes_Fails()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        var probe = Run(pair.Server);
        probe.Request(1);
        await AwaitConditionAsync(() => Task.FromResult(pair.Server.Pending), TimeSpan.FromSeconds(5));

        pair.DropClient();   // the TCP connection goes without a close frame
        Assert.IsType<WebSocketException>(await probe.ExpectErrorAsync());
    }

    [Fact]
    public async Task Frames_CancelledWhileWaiting_ReleasesTheReceive()
    {
        await using var pair = await WebSocketPair.ConnectAsync();
        var probe = Run(pair.Server);
        probe.Request(1);
        await AwaitConditionAsync(() => Task.FromResult(pair.Server.Pending), TimeSpan.FromSeconds(5));

        probe.Cancel();   // nobody will read again: the waiting receive must not hold the socket
        await AwaitConditionAsync(() => Task.FromResult(!pair.Server.Pending), TimeSpan.FromSeconds(5));
    }
}
