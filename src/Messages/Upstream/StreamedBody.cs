using Akka;
using Akka.Actor;
using Akka.IO;
using Akka.Streams.Dsl;

namespace Orchestrator.Messages.Upstream;

/// <summary>
/// An upstream's <c>text/event-stream</c> body, not read yet: either a <see cref="Stream"/> the answer stream reads
/// itself (HTTP upstreams), or a <see cref="Source"/> of bytes it runs (upstreams that answer in-process). Read at
/// most once. <see cref="Attempt"/> hears <see cref="BodyReadStarted"/> and <see cref="BodyReadEnded"/>; cancelling
/// <see cref="Stop"/> ends the read. <see cref="Dispose"/> closes it, read or not (it is idempotent).
/// </summary>
public sealed record StreamedBody : IDisposable
{
    private StreamedBody(Stream? stream, Source<ByteString, NotUsed>? source, IDisposable? owner, ReadBufferGauge? gauge)
    {
        Stream = stream;
        Source = source;
        Owner = owner;
        Gauge = gauge;
    }

    public Stream? Stream { get; }
    public Source<ByteString, NotUsed>? Source { get; }

    /// <summary>What else closes with the body (the HTTP response it belongs to).</summary>
    public IDisposable? Owner { get; }

    /// <summary>Counts the read buffers the reader holds (a diagnostic: a body waiting on its upstream holds none).</summary>
    public ReadBufferGauge? Gauge { get; }

    /// <summary>Set when the upstream speaks another dialect: its events are decoded into chat chunks before anything reads them.</summary>
    public IStreamDecoder? Decoder { get; init; }

    /// <summary>
    /// The upstream answered a native request in the client's own dialect: a first attempt's events also travel as
    /// they came (<see cref="Chat.AnswerBlock.Native"/>), for the front to write unchanged.
    /// </summary>
    public bool KeepsNative { get; init; }

    public IActorRef Attempt { get; init; } = ActorRefs.Nobody;

    /// <summary>When the attempt went upstream, for the relay's overhead (default: not measured).</summary>
    public UpstreamTiming Timing { get; init; }
    public CancellationToken Stop { get; init; }

    public static StreamedBody FromStream(Stream stream, IDisposable? owner, ReadBufferGauge? gauge = null) => new(stream, null, owner, gauge);

    public static StreamedBody FromSource(Source<ByteString, NotUsed> source, IDisposable? owner = null) => new(null, source, owner, null);

    public void Dispose()
    {
        Stream?.Dispose();
        Owner?.Dispose();
    }

    public override string ToString() => Stream is not null ? "StreamedBody(stream)" : "StreamedBody(source)";
}

/// <summary>Told to an attempt when its body starts being read (told while the answer stream is materialized).</summary>
public sealed record BodyReadStarted
{
    public static readonly BodyReadStarted Instance = new();
}

/// <summary>Told to an attempt when its body is no longer read: whole, cut (<paramref name="Cause"/>), or cancelled.</summary>
public sealed record BodyReadEnded(Exception? Cause);

/// <summary>How many read buffers the bodies it is given hold right now; written from stream stages, hence Interlocked.</summary>
public sealed class ReadBufferGauge
{
    private long _held;

    public long Held => Interlocked.Read(ref _held);

    public void Rented() => Interlocked.Increment(ref _held);

    public void Returned() => Interlocked.Decrement(ref _held);
}
