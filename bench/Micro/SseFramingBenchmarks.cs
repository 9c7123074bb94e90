using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using BenchmarkDotNet.Attributes;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Bench.Micro;

public enum Split
{
    /// <summary>The stream in 16 KB reads, as a socket delivers a fast upstream.</summary>
    Whole,

    /// <summary>Every byte its own chunk: the worst case for a parser that must keep partial lines.</summary>
    OneByte,
}

/// <summary>
/// The SSE parser on 256 KB of <c>data:</c> events per operation. <c>Reader</c> is the parser alone (SseReader, the
/// stage's core); <c>Stage</c> is <see cref="SseFraming.Flow"/> materialised in Akka.Streams, demand and all. MB/s,
/// ns/event and allocated bytes/event are in the extra columns (see <see cref="PerEventColumns"/>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Columns))]
public class SseFramingBenchmarks
{
    public const int BytesPerOperation = 256 * 1024;
    private const int MaxEventBytes = 1024 * 1024;

    private ByteString[] _chunks = [];
    private ActorSystem _system = null!;
    private IMaterializer _materializer = null!;

    /// <summary>Bytes of one event on the wire: <c>data: </c>, the payload, and the blank line.</summary>
    [Params(100, 4096)]
    public int EventBytes { get; set; }

    [Params(Split.Whole, Split.OneByte)]
    public Split Split { get; set; }

    public int EventsPerOperation => BytesPerOperation / EventBytes;

    public sealed class Columns() : PerEventColumns.Config(c => new Workload(BytesPerOperation, BytesPerOperation / (int)c.Parameters[nameof(EventBytes)]));

    [GlobalSetup]
    public void Setup()
    {
        var oneEvent = new byte[EventBytes];
        "data: "u8.CopyTo(oneEvent);
        oneEvent.AsSpan(6, EventBytes - 8).Fill((byte)'x');
        "\n\n"u8.CopyTo(oneEvent.AsSpan(EventBytes - 2));
        var stream = Enumerable.Repeat(oneEvent, EventsPerOperation).SelectMany(e => e).ToArray();
        var chunkBytes = Split == Split.Whole ? 16 * 1024 : 1;
        _chunks = stream.Chunk(chunkBytes).Select(c => ByteString.FromBytes(c)).ToArray();
        _system = ActorSystem.Create("micro", "akka.loglevel = WARNING");
        _materializer = _system.Materializer();
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark]
    public int Reader()
    {
        var reader = SseReaderAccess.Create(MaxEventBytes);
        var events = 0;
        foreach (var chunk in _chunks)
        {
            SseReaderAccess.Append(reader, chunk);
            while (SseReaderAccess.TryRead(reader, out _)) events++;
        }

        SseReaderAccess.Dispose(reader);
        return Check(events);
    }

    [Benchmark]
    public async Task<int> Stage()
    {
        var events = await Source.From(_chunks)
            .Via(SseFraming.Flow(MaxEventBytes))
            .RunWith(Sink.Aggregate<SseEvent, int>(0, (n, _) => n + 1), _materializer);
        return Check(events);
    }

    private int Check(int events) =>
        events == EventsPerOperation ? events : throw new InvalidOperationException($"read {events} events, expected {EventsPerOperation}");
}
