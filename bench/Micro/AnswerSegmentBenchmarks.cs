using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using BenchmarkDotNet.Attributes;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Streams;
using Orchestrator.Bench.MockUpstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Bench.Micro;

public enum Delivery
{
    /// <summary>The upstream body in 16 KB reads, events split across reads: a fast upstream.</summary>
    Reads16K,

    /// <summary>Each event its own read: a paced upstream (one token per write), one <see cref="AnswerBlock"/> per event.</summary>
    EventPerRead,
}

/// <summary>
/// The relay's hot path on a first attempt: <see cref="AnswerStream.Source"/> (SSE framing, one <c>Utf8JsonReader</c>
/// scan per event, end-of-stream rules, watchdogs, pass-through of the upstream's bytes) materialised in Akka.Streams,
/// from <see cref="ByteString"/> reads to a sink that counts the <see cref="AnswerBlock"/> bytes. The events are the
/// mock upstream's (<see cref="CannedBytes"/>, ~200 B chunks shaped like OpenAI's): a role chunk, N content chunks,
/// the finish chunk and <c>[DONE]</c>; without include_usage the segment ends at the finish chunk, so every event but
/// <c>[DONE]</c> goes through and the output is the input's bytes.
/// <list type="bullet">
/// <item><c>Stream</c>: one answer of 50 content chunks per operation, as a request runs it (materialisation, the
/// transcript and the timers included, spread over its 52 events).</item>
/// <item><c>Amortised</c>: one answer of 10,000 content chunks through one materialisation: the per-event cost.</item>
/// <item><c>ScanOnly</c>: the same 10,000 events through the stage's parsing alone (<c>SseReader.TryReadData</c> and
/// <see cref="ChunkScan.TryScan"/>), no Akka and no output block: the floor under <c>Amortised</c>.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Columns))]
public class AnswerSegmentBenchmarks
{
    public const int StreamChunks = 50;
    public const int AmortisedChunks = 10_000;
    private const int ReadBytes = 16 * 1024;

    private static readonly SegmentLimits Limits = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), IncludeUsage: false, SingleChoice: true);

    // Computed once: the benchmarks check against them, and nothing may allocate in an operation but the work.
    private static readonly Workload StreamWorkload = Measure(StreamChunks, passesThrough: true);
    private static readonly Workload AmortisedWorkload = Measure(AmortisedChunks, passesThrough: true);
    private static readonly Workload ScanOnlyWorkload = Measure(AmortisedChunks, passesThrough: false);

    private ByteString[] _stream = [];
    private ByteString[] _amortised = [];
    private ActorSystem _system = null!;
    private IMaterializer _materializer = null!;

    /// <summary>Whether the transcript keeps the answer text (a resume could need it) or only counts.</summary>
    [Params(false, true)]
    public bool KeepText { get; set; }

    [Params(Delivery.Reads16K, Delivery.EventPerRead)]
    public Delivery Delivery { get; set; }

    public sealed class Columns() : PerEventColumns.Config(c => WorkloadOf(c.Descriptor.WorkloadMethod.Name), beyondPayload: true);

    /// <summary>Bytes read, events handled (role, content, finish) and bytes out, per operation of <paramref name="method"/>.</summary>
    public static Workload WorkloadOf(string method) => method switch
    {
        nameof(Stream) => StreamWorkload,
        nameof(Amortised) => AmortisedWorkload,
        _ => ScanOnlyWorkload,
    };

    private static Workload Measure(int contentChunks, bool passesThrough)
    {
        var events = Events(contentChunks);
        var bytes = events.Sum(e => (long)e.Length);
        // [DONE] never comes out: the segment ends at the finish chunk. ScanOnly writes nothing out.
        return new Workload(bytes, events.Count - 1, passesThrough ? bytes - CannedBytes.Done.Length : 0);
    }

    [GlobalSetup]
    public void Setup()
    {
        _stream = Reads(Events(StreamChunks));
        _amortised = Reads(Events(AmortisedChunks));
        _system = ActorSystem.Create("micro", "akka.loglevel = WARNING");
        _materializer = _system.Materializer();
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark]
    public Task<long> Stream() => RunAsync(_stream, StreamWorkload);

    [Benchmark]
    public Task<long> Amortised() => RunAsync(_amortised, AmortisedWorkload);

    [Benchmark]
    public long ScanOnly()
    {
        var reader = SseReaderAccess.Create(Limits.MaxEventBytes);
        byte[]? text = KeepText ? [] : null;
        int textBytes = 0, events = 0;
        var wantId = true;
        foreach (var read in _amortised)
        {
            SseReaderAccess.Append(reader, read);
            while (SseReaderAccess.TryReadData(reader, out var data))
            {
                if (data.SequenceEqual("[DONE]"u8)) continue;
                if (!ChunkScan.TryScan(data, wantId, ref text, textBytes, out var facts)) throw new InvalidOperationException("a canned event did not scan");
                wantId = false;
                textBytes += facts.TextBytes;
                events++;
            }
        }

        SseReaderAccess.Dispose(reader);
        var expected = ScanOnlyWorkload.Events;
        return events == expected ? events : throw new InvalidOperationException($"scanned {events} events, expected {expected}");
    }

    private async Task<long> RunAsync(ByteString[] reads, Workload workload)
    {
        // The body as the relay reads an upstream response: a Stream, one read per ReadAsync (no socket, no I/O wait).
        var bytes = await AnswerStream.Source(StreamedBody.FromStream(new ReadsStream(reads), null), new Transcript(KeepText), Limits, session: null, TimeSpan.FromSeconds(5))
            .RunWith(Sink.Aggregate<AnswerBlock, long>(0, static (n, block) => n + block.Sse.Length), _materializer);
        // Pass-through: what comes out is the upstream's bytes up to the finish chunk, nothing more or less.
        return bytes == workload.PayloadBytes ? bytes : throw new InvalidOperationException($"passed {bytes} bytes, expected {workload.PayloadBytes}");
    }

    private static List<byte[]> Events(int contentChunks) =>
        [CannedBytes.Role, .. Enumerable.Range(0, contentChunks).Select(i => CannedBytes.Content[i % CannedAnswer.MaxChunks]), CannedBytes.Finish, CannedBytes.Done];

    private ByteString[] Reads(List<byte[]> events) => Delivery == Delivery.EventPerRead
        ? [.. events.Select(e => ByteString.FromBytes(e))]
        : [.. events.SelectMany(e => e).Chunk(ReadBytes).Select(c => ByteString.FromBytes(c))];

    /// <summary>Hands out the prepared reads one per call, completed at once, like a socket that always has bytes.</summary>
    private sealed class ReadsStream(ByteString[] reads) : System.IO.Stream
    {
        private int _next;
        private int _offset;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty || _next == reads.Length) return ValueTask.FromResult(0);
            var read = reads[_next];
            var count = Math.Min(buffer.Length, read.Count - _offset);
            var target = buffer.Span[..count];
            read.Slice(_offset, count).CopyTo(ref target);
            _offset += count;
            if (_offset == read.Count)
            {
                _next++;
                _offset = 0;
            }
            return ValueTask.FromResult(count);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, System.IO.SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
