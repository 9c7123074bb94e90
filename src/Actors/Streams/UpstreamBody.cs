using System.Buffers;
using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;

namespace Orchestrator.Actors.Streams;

/// <summary>
/// A response body as a source of reads, at the consumer's pace: one read per pull, never ahead of demand. It
/// waits for bytes with a zero-byte read and takes a pooled buffer only once they are there, so a stream that
/// waits on its upstream (a model thinking, a slow token rate) holds no read buffer. Each read leaves as a
/// <see cref="ByteString"/> copy; the body (and <paramref name="owner"/>, the response) is disposed when the
/// stage stops, however it stops.
/// </summary>
public static class UpstreamBody
{
    /// <summary>One read from the upstream socket: SSE events are small, so this rarely holds more than a few.</summary>
    public const int ReadBufferBytes = 16 * 1024;

    /// <param name="buffers">Counts the read buffers held right now (a diagnostic: an idle stream adds none).</param>
    public static Source<ByteString, NotUsed> Source(Stream body, IDisposable? owner, ReadBufferGauge? buffers = null) =>
        Akka.Streams.Dsl.Source.FromGraph(new UpstreamBodyStage(body, owner, buffers)).Named("upstream-body");

    private sealed class UpstreamBodyStage(Stream body, IDisposable? owner, ReadBufferGauge? buffers) : GraphStage<SourceShape<ByteString>>
    {
        private readonly Outlet<ByteString> _out = new("upstream-body.out");

        public override SourceShape<ByteString> Shape => new(_out);

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this, body, owner, buffers);

        private sealed class Logic : OutGraphStageLogic
        {
            private readonly UpstreamBodyStage _stage;
            private readonly Stream _body;
            private readonly IDisposable? _owner;
            private readonly Action<Task<int>> _onReady;
            private readonly Action<Task<int>> _onRead;
            private readonly ReadBufferGauge? _gauge;
            private byte[]? _buffer;

            public Logic(UpstreamBodyStage stage, Stream body, IDisposable? owner, ReadBufferGauge? gauge) : base(stage.Shape)
            {
                _stage = stage;
                _body = body;
                _owner = owner;
                _gauge = gauge;
                _onReady = GetAsyncCallback<Task<int>>(OnReady);
                _onRead = GetAsyncCallback<Task<int>>(OnRead);
                SetHandler(stage._out, this);
            }

            public override void OnPull() => WaitForBytes();

            public override void PostStop()
            {
                Release();
                _body.Dispose();
                _owner?.Dispose();
            }

            // A body that does not support zero-byte reads answers one at once; the real read then waits instead.
            private void WaitForBytes()
            {
                ValueTask<int> ready;
                try
                {
                    ready = _body.ReadAsync(Memory<byte>.Empty);
                }
                catch (Exception ex)
                {
                    FailStage(ex);
                    return;
                }
                if (ready.IsCompletedSuccessfully)
                {
                    _ = ready.Result;
                    Read();
                }
                else
                {
                    ready.AsTask().ContinueWith(_onReady, TaskContinuationOptions.ExecuteSynchronously);
                }
            }

            private void OnReady(Task<int> ready)
            {
                if (ready.IsFaulted) FailStage(ready.Exception!.GetBaseException());
                else if (ready.IsCanceled) FailStage(new OperationCanceledException("the upstream read was cancelled"));
                else Read();
            }

            private void Read()
            {
                _buffer ??= Rent();
                ValueTask<int> read;
                try
                {
                    read = _body.ReadAsync(_buffer.AsMemory());
                }
                catch (Exception ex)
                {
                    FailStage(ex);
                    return;
                }
                if (read.IsCompletedSuccessfully) Emit(read.Result);
                else read.AsTask().ContinueWith(_onRead, TaskContinuationOptions.ExecuteSynchronously);
            }

            private void OnRead(Task<int> read)
            {
                if (read.IsFaulted) FailStage(read.Exception!.GetBaseException());
                else if (read.IsCanceled) FailStage(new OperationCanceledException("the upstream read was cancelled"));
                else Emit(read.Result);
            }

            private void Emit(int count)
            {
                if (count == 0)
                {
                    Release();
                    CompleteStage();
                    return;
                }
                // A copy, so the buffer goes back to the pool now: the next read may be a long wait away.
                var bytes = ByteString.CopyFrom(_buffer!, 0, count);
                Release();
                Push(_stage._out, bytes);
            }

            private byte[] Rent()
            {
                _gauge?.Rented();
                return ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
            }

            private void Release()
            {
                if (_buffer is null) return;
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
                _gauge?.Returned();
            }
        }
    }
}

/// <summary>How many read buffers the bodies it is given hold right now; written from stream stages, hence Interlocked.</summary>
public sealed class ReadBufferGauge
{
    private long _held;

    public long Held => Interlocked.Read(ref _held);

    internal void Rented() => Interlocked.Increment(ref _held);

    internal void Returned() => Interlocked.Decrement(ref _held);
}
