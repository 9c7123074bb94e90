using System.Text;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Tests.Streams;

public sealed class SseFramingLargeEventTests : Akka.TestKit.Xunit2.TestKit
{
    public SseFramingLargeEventTests() : base("akka.loglevel = WARNING")
    {
    }

    [Theory]
    [InlineData(16 * 1024)]
    [InlineData(4093)]
    [InlineData(1000)]
    public async Task LargeEvents_SplitAcrossReads_ComeOutWhole(int readSize)
    {
        var payload = "{\"x\":\"" + new string('x', 4000) + "\"}";
        var wire = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("data: " + payload + "\n\n", 200)));
        var reads = Enumerable.Range(0, (wire.Length + readSize - 1) / readSize)
            .Select(i => ByteString.FromBytes(wire, i * readSize, Math.Min(readSize, wire.Length - i * readSize)));

        var events = await Source.From(reads).Via(SseFraming.Flow(1024 * 1024)).RunWith(Sink.Seq<SseEvent>(), Sys.Materializer());

        Assert.Equal(200, events.Count);
        Assert.All(events, e => Assert.Equal(payload, Encoding.UTF8.GetString(e.Data.Span)));
    }
}
