using System.Text;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Orchestrator.Actors.Streams;
using Reactive.Streams;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Tests.Streams;

public sealed class SseFramingTests : Akka.TestKit.Xunit2.TestKit
{
    private const int MaxLineBytes = 256;
    private const string Bom = "\uFEFF";
    private static readonly string[] Terminators = ["\n", "\r\n", "\r"];
    private static readonly TimeSpan NoPullWindow = TimeSpan.FromMilliseconds(100);

    // Strict, so bytes mangled by a split (half a multi-byte character) fail the test instead of becoming U+FFFD.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ITestOutputHelper _output;
    private readonly IMaterializer _materializer;

    public SseFramingTests(ITestOutputHelper output) : base("akka.loglevel = WARNING", output)
    {
        _output = output;
        _materializer = Sys.Materializer();
    }

    // The parser table. Terminator-generic inputs are written with "\n" and run with each of \n, \r\n and \r.
    private static readonly Case[] Cases =
    [
        new("single event", "data: hello\n\n", [E("hello")]),
        new("two events", "data: a\n\ndata: b\n\n", [E("a"), E("b")]),
        new("no space after colon", "data:x\n\n", [E("x")]),
        new("only one leading space removed", "data:  x\n\n", [E(" x")]),
        new("colons in value kept", "data: a: b:c\n\n", [E("a: b:c")]),
        new("multi-line data", "data: a\ndata:b\n\n", [E("a\nb")]),
        new("empty data line adds a line", "data: a\ndata:\ndata\n\n", [E("a\n\n")]),
        new("empty data", "data:\n\n", [E("")]),
        new("data without colon", "data\n\n", [E("")]),
        new("comments ignored", ": keep-alive\ndata: x\n:\n: more\n\n", [E("x")]),
        new("comment-only block dispatches nothing", ": ping\n\ndata: x\n\n", [E("x")]),
        new("blank lines dispatch nothing", "\n\n\n", []),
        new("empty input", "", []),
        new("unknown and wrong-case fields ignored", "foo: bar\nDATA: y\ndata: x\ndata : z\n\n", [E("x")]),
        new("event field", "event: add\ndata: 1\n\ndata: 2\n\n", [E("1", "add"), E("2")]),
        new("empty event is message", "event: add\nevent:\ndata: x\n\n", [E("x")]),
        new("event without data is reset", "event: stray\n\ndata: x\n\n", [E("x")]),
        new("event repeated", "event: d\ndata: 1\n\nevent: d\ndata: 2\n\n", [E("1", "d"), E("2", "d")]),
        new("id persists", "id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n",
            [E("a", id: "1"), E("b", id: "1"), E("c", id: "2"), E("d")]),
        new("id without data kept", "id: 5\n\ndata: a\n\n", [E("a", id: "5")]),
        new("id with NUL ignored", "id: 7\ndata: a\n\nid: x\0y\ndata: b\n\n", [E("a", id: "7"), E("b", id: "7")]),
        new("retry", "retry: 3000\ndata: a\n\nretry: 12x\ndata: b\n\nretry: -5\nretry: 99999999999\nretry:\nretry: +1\ndata: c\n\nretry:10\ndata: d\n\n",
            [E("a", retry: 3000), E("b", retry: 3000), E("c", retry: 3000), E("d", retry: 10)]),
        new("trailing partial event dropped", "data: a\n\ndata: b\n", [E("a")]),
        new("trailing partial line dropped", "data: a\n\ndata: b", [E("a")]),
        new("BOM at start skipped", Bom + "data: a\n\n", [E("a")]),
        new("BOM alone", Bom, []),
        new("second BOM not stripped", Bom + Bom + "data: a\n\ndata: b\n\n", [E("b")]),
        new("BOM later kept", "data: a\n\n" + Bom + "data: b\n\ndata: " + Bom + "c\n\n", [E("a"), E(Bom + "c")]),
        new("multi-byte UTF-8", "event: ünï\ndata: héllo 世界 🎉\nid: é🎉\n\n", [E("héllo 世界 🎉", "ünï", "é🎉")]),
        new("DONE", "data: {\"x\":1}\n\ndata: [DONE]\n\n", [E("{\"x\":1}"), E("[DONE]")]),
        new("DONE with space is not DONE", "data: [DONE] \n\n", [E("[DONE] ")]),
        new("mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\n", [E("a\nb\nc")], AnyTerminator: false),
        new("LF then CR is two line ends", "data: a\n\rdata: b\r\n\r\n", [E("a"), E("b")], AnyTerminator: false),
        new("CR CR is a blank line", "data: a\r\rdata: b\r\n\r\n", [E("a"), E("b")], AnyTerminator: false),
        new("CRLF after CR-ended line", "data: a\r\r\n", [E("a")], AnyTerminator: false),
    ];

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var c in Cases) names.Add(c.Name);
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Framing_CaseWholeSplitAtEveryByteAndByteByByte_YieldsExpectedEvents(string name)
    {
        var runs = new List<(string How, Task<IReadOnlyList<Seen>> Events)>();
        foreach (var (terminator, input) in Variants(name))
        {
            var label = $"terminator {Escape(terminator)}";
            runs.Add(($"{label}, whole", Run([input])));
            runs.Add(($"{label}, byte by byte", Run(input.Select(b => new[] { b }).ToArray())));
            for (var at = 0; at <= input.Length; at++)
                runs.Add(($"{label}, split at {at}", Run([input[..at], input[at..]])));
        }

        await AssertAllExpected(name, runs);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Framing_CaseRandomlySplit_YieldsExpectedEvents(string name)
    {
        var seed = Random.Shared.Next();
        _output.WriteLine($"random split seed: {seed}");
        var random = new Random(seed);
        var runs = new List<(string How, Task<IReadOnlyList<Seen>> Events)>();
        foreach (var (terminator, input) in Variants(name))
        {
            for (var i = 0; i < 10; i++)
            {
                var chunks = RandomChunks(input, random);
                runs.Add(($"terminator {Escape(terminator)}, seed {seed}, chunks {string.Join(",", chunks.Select(c => c.Length))}", Run(chunks)));
            }
        }

        await AssertAllExpected(name, runs);
    }

    [Fact]
    public async Task Framing_LineOfExactlyMax_IsAccepted()
    {
        var line = "data: " + new string('x', 10);
        var events = await Run([Encoding.UTF8.GetBytes(line + "\n\n")], maxLineBytes: line.Length);
        Assert.Equal([E(new string('x', 10))], events);
    }

    [Theory]
    [InlineData("data: 0123456789abc\n\n")]
    [InlineData(": a comment that is far too long\n\n")]
    [InlineData("data: 0123456789abc")]             // never terminated
    [InlineData("data: 0123456789abc\r")]
    public async Task Framing_LineLongerThanMax_FailsWithLineTooLong(string input)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var whole = await Assert.ThrowsAsync<SseLineTooLongException>(() => Run([bytes], maxLineBytes: 16));
        var byteByByte = await Assert.ThrowsAsync<SseLineTooLongException>(
            () => Run(bytes.Select(b => new[] { b }).ToArray(), maxLineBytes: 16));
        Assert.Equal(16, whole.MaxLineBytes);
        Assert.Equal(16, byteByByte.MaxLineBytes);
    }

    [Fact]
    public async Task Framing_EndlessLine_FailsInsteadOfBuffering()
    {
        var endless = Source.Repeat(ByteString.FromString("xxxxxxx"))
            .Via(SseFraming.Flow(1024))
            .RunWith(Sink.Seq<SseEvent>(), _materializer);
        await Assert.ThrowsAsync<SseLineTooLongException>(() => endless);
    }

    [Fact]
    public async Task Framing_DataLinesAddingUpToMax_AreAccepted()
    {
        // 7 + LF + 8 = 16 bytes of data.
        var events = await Run([Encoding.UTF8.GetBytes("data: 1234567\ndata: 12345678\n\n")], maxLineBytes: 16);
        Assert.Equal([E("1234567\n12345678")], events);
    }

    [Fact]
    public async Task Framing_DataLinesAddingUpPastMax_FailsWithLineTooLong()
    {
        // Each line fits, the event does not: 8 + LF + 8 = 17 bytes of data.
        var bytes = Encoding.UTF8.GetBytes("data: 12345678\ndata: 12345678\n\n");
        await Assert.ThrowsAsync<SseLineTooLongException>(() => Run([bytes], maxLineBytes: 16));
        await Assert.ThrowsAsync<SseLineTooLongException>(() => Run(bytes.Select(b => new[] { b }).ToArray(), maxLineBytes: 16));
    }

    [Fact]
    public async Task Framing_NoDownstreamDemand_PullsNothingAndEmitsOneEventPerRequest()
    {
        var probe = CreateTestProbe();
        var upstream = Source.Queue<ByteString>(4, OverflowStrategy.Backpressure)
            .Via(Flow.FromGraph(new PullSpy(() => probe.Ref.Tell(Pulled.Instance))))
            .Via(SseFraming.Flow(MaxLineBytes))
            .To(Sink.FromSubscriber(new ForwardingSubscriber(probe.Ref)))
            .Run(_materializer);
        var subscription = (await probe.ExpectMsgAsync<Subscribed>()).Subscription;

        // Bytes are waiting upstream, but nobody downstream asked: nothing is pulled.
        await upstream.OfferAsync(ByteString.FromString("data: a\n\ndata: b\n\n"));
        await probe.ExpectNoMsgAsync(NoPullWindow);

        subscription.Request(1);
        await probe.ExpectMsgAsync<Pulled>();
        Assert.Equal(E("a"), Seen.Of((await probe.ExpectMsgAsync<Next>()).Event));

        // "b" is already buffered, so it comes without a pull (a pull would reach the probe before it).
        subscription.Request(1);
        Assert.Equal(E("b"), Seen.Of((await probe.ExpectMsgAsync<Next>()).Event));
        await probe.ExpectNoMsgAsync(NoPullWindow);

        subscription.Request(1);
        await probe.ExpectMsgAsync<Pulled>();
        await upstream.OfferAsync(ByteString.FromString("data: c\n\ndata: d\n\ndata: partial"));
        upstream.Complete();
        Assert.Equal(E("c"), Seen.Of((await probe.ExpectMsgAsync<Next>()).Event));

        // Upstream is done, but "d" is complete and buffered: it waits for demand, then the stream completes.
        await probe.ExpectNoMsgAsync(NoPullWindow);
        subscription.Request(1);
        Assert.Equal(E("d"), Seen.Of((await probe.ExpectMsgAsync<Next>()).Event));
        subscription.Request(1);
        await probe.ExpectMsgAsync<Completed>();
    }

    [Fact]
    public async Task Framing_ManyEventsInOneChunk_EmitsAllFromOnePull()
    {
        const int count = 1000;
        var body = new StringBuilder();
        for (var i = 0; i < count; i++) body.Append("id: ").Append(i).Append("\ndata: ").Append(i).Append("\n\n");
        var pulls = 0;

        var events = await Source.Single(ByteString.FromString(body.ToString()))
            .Via(Flow.FromGraph(new PullSpy(() => Interlocked.Increment(ref pulls))))
            .Via(SseFraming.Flow(MaxLineBytes))
            .RunWith(Sink.Seq<SseEvent>(), _materializer);

        Assert.Equal(count, events.Count);
        for (var i = 0; i < count; i++) Assert.Equal(E($"{i}", id: $"{i}"), Seen.Of(events[i]));
        Assert.Equal(1, Volatile.Read(ref pulls));
    }

    [Theory]
    [InlineData("[DONE]", true)]
    [InlineData("[DONE] ", false)]
    [InlineData("[done]", false)]
    [InlineData("", false)]
    public void Event_IsDone_OnlyForExactSentinel(string data, bool isDone) =>
        Assert.Equal(isDone, new SseEvent("message", Encoding.UTF8.GetBytes(data), null, null).IsDone);

    private static Seen E(string data, string type = "message", string? id = null, int? retry = null) =>
        new(type, data, id, retry, data == "[DONE]");

    private static IEnumerable<(string Terminator, byte[] Input)> Variants(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        foreach (var terminator in c.AnyTerminator ? Terminators : ["\n"])
        {
            var text = c.AnyTerminator ? c.Input.Replace("\n", terminator) : c.Input;
            yield return (c.AnyTerminator ? terminator : "as written", Encoding.UTF8.GetBytes(text));
        }
    }

    private static byte[][] RandomChunks(byte[] input, Random random)
    {
        var chunks = new List<byte[]>();
        var at = 0;
        while (at < input.Length)
        {
            var size = Math.Min(random.Next(0, 9), input.Length - at);   // 0 sends an empty ByteString
            chunks.Add(input[at..(at + size)]);
            at += size;
        }

        return [.. chunks];
    }

    private async Task<IReadOnlyList<Seen>> Run(byte[][] chunks, int maxLineBytes = MaxLineBytes)
    {
        var events = await Source.From(chunks.Select(ByteString.FromBytes).ToList())
            .Via(SseFraming.Flow(maxLineBytes))
            .RunWith(Sink.Seq<SseEvent>(), _materializer);
        return events.Select(Seen.Of).ToList();
    }

    private static async Task AssertAllExpected(string name, List<(string How, Task<IReadOnlyList<Seen>> Events)> runs)
    {
        var expected = Cases.Single(x => x.Name == name).Events;
        await Task.WhenAll(runs.Select(r => r.Events));
        foreach (var (how, events) in runs)
        {
            var actual = events.Result;
            Assert.True(expected.SequenceEqual(actual),
                $"{name} ({how}):\n  expected {string.Join(", ", expected)}\n  actual   {string.Join(", ", actual)}");
        }
    }

    private static string Escape(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n");

    private sealed record Case(string Name, string Input, Seen[] Events, bool AnyTerminator = true);

    // What a test compares: the event with its data decoded strictly, so split characters show up.
    private sealed record Seen(string Type, string Data, string? Id, int? Retry, bool IsDone)
    {
        public static Seen Of(SseEvent e) =>
            new(e.EventType, StrictUtf8.GetString(e.Data.Span), e.LastEventId, e.RetryMs, e.IsDone);

        public override string ToString() => $"[{Type} \"{Escape(Data)}\" id={Id} retry={Retry} done={IsDone}]";
    }

    private sealed record Pulled
    {
        public static readonly Pulled Instance = new();
    }

    private sealed record Subscribed(ISubscription Subscription);

    private sealed record Next(SseEvent Event);

    private sealed record Completed
    {
        public static readonly Completed Instance = new();
    }

    private sealed record Failed(Exception Cause);

    // A pass-through that reports every pull: placed right above the stage, it sees exactly the stage's pulls.
    private sealed class PullSpy : GraphStage<FlowShape<ByteString, ByteString>>
    {
        private readonly Action _onPull;
        private readonly Inlet<ByteString> _in = new("pull-spy.in");
        private readonly Outlet<ByteString> _out = new("pull-spy.out");

        public PullSpy(Action onPull)
        {
            _onPull = onPull;
            Shape = new FlowShape<ByteString, ByteString>(_in, _out);
        }

        public override FlowShape<ByteString, ByteString> Shape { get; }

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : InAndOutGraphStageLogic
        {
            private readonly PullSpy _spy;

            public Logic(PullSpy spy) : base(spy.Shape)
            {
                _spy = spy;
                SetHandler(spy._in, this);
                SetHandler(spy._out, this);
            }

            public override void OnPush() => Push(_spy._out, Grab(_spy._in));

            public override void OnPull()
            {
                _spy._onPull();
                Pull(_spy._in);
            }
        }
    }

    // A subscriber the test drives by hand: demand is exactly what the test requests.
    private sealed class ForwardingSubscriber(IActorRef probe) : ISubscriber<SseEvent>
    {
        public void OnSubscribe(ISubscription subscription) => probe.Tell(new Subscribed(subscription));

        public void OnNext(SseEvent element) => probe.Tell(new Next(element));

        public void OnError(Exception cause) => probe.Tell(new Failed(cause));

        public void OnComplete() => probe.Tell(Completed.Instance);
    }
}
