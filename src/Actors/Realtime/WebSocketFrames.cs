using System.Buffers;
using System.Net.WebSockets;
using Akka;
using Akka.Streams;
using Akka.Streams.Stage;
using Orchestrator.Actors.Streams;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Realtime;

/// <summary>
/// A WebSocket's incoming messages as a source, at the consumer's pace: one message per pull, and no receive at all
/// while there is no demand (the peer's further messages wait in the TCP buffers, and then in the peer). Between
/// messages it waits with a zero-byte receive (ManagedWebSocket, which both Kestrel and <c>CreateFromStream</c> use,
/// reads the next frame header into its own small buffer and handles pings, pongs and close on the way) and rents
/// a read buffer only once a message has begun, so an idle socket holds none. A message is read into that pooled
/// buffer, grown by doubling, until <c>EndOfMessage</c>; past <paramref name="maxMessageBytes"/> the stage fails
/// with <see cref="WebSocketMessageTooBigException"/>. A text message leaves as one exact copy; a binary one as
/// <see cref="WebSocketMessage.Binary"/>. The peer's close completes the stage; a dead socket fails it.
/// The socket is the caller's: the stage neither closes nor disposes it, but a receive still pending when the stage
/// stops is cancelled, which (ManagedWebSocket's rule) aborts the socket.
/// </summary>
public static class WebSocketFrames
{
    /// <summary>The first buffer of a message: most requests fit, and larger ones double from here up to the cap.</summary>
    public const int FirstReadBytes = 16 * 1024;

    /// <param name="aborted">Cancels a pending receive (the request behind the socket was aborted).</param>
    /// <param name="buffers">Counts the read buffers held right now (a diagnostic: an idle socket adds none).</param>
    public static Akka.Streams.Dsl.Source<WebSocketMessage, NotUsed> Source(
        WebSocket socket, int maxMessageBytes, CancellationToken aborted = default, ReadBufferGauge? buffers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageBytes);
        return Akka.Streams.Dsl.Source.FromGraph(new WebSocketFramesStage(socket, maxMessageBytes, aborted, buffers)).Named("websocket-frames");
    }

    private sealed class WebSocketFramesStage(WebSocket socket, int maxMessageBytes, CancellationToken aborted, ReadBufferGauge? buffers)
        : GraphStage<SourceShape<WebSocketMessage>>
    {
        private readonly Outlet<WebSocketMessage> _out = new("websocket-frames.out");
        private readonly WebSocket _socket = socket;
        private readonly int _maxMessageBytes = maxMessageBytes;
        private readonly CancellationToken _aborted = aborted;
        private readonly ReadBufferGauge? _buffers = buffers;

        public override SourceShape<WebSocketMessage> Shape => new(_out);

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : OutGraphStageLogic
        {
            private readonly WebSocketFramesStage _stage;
            private readonly Action<Task<ValueWebSocketReceiveResult>> _onReceived;
            private readonly CancellationTokenSource _stopping;
            private byte[]? _buffer;
            private int _count;
            private WebSocketMessageType _type;

            public Logic(WebSocketFramesStage stage) : base(stage.Shape)
            {
                _stage = stage;
                _stopping = CancellationTokenSource.CreateLinkedTokenSource(stage._aborted);
                _onReceived = GetAsyncCallback<Task<ValueWebSocketReceiveResult>>(OnReceived);
                SetHandler(stage._out, this);
            }

            // Pulled only after the last message was pushed: no receive is running, and this starts the next one.
            public override void OnPull() => Receive();

            public override void PostStop()
            {
                Release();
                _stopping.Cancel();   // a receive still waiting would otherwise hold the socket's read side forever
                _stopping.Dispose();
            }

            /// <summary>Receives until a message is whole; async receives come back through <see cref="OnReceived"/>.</summary>
            private void Receive()
            {
                while (true)
                {
                    ValueTask<ValueWebSocketReceiveResult> receive;
                    try
                    {
                        // No message begun: a zero-byte receive waits for the next frame without a buffer of ours.
                        receive = _stage._socket.ReceiveAsync(_buffer is null ? Memory<byte>.Empty : _buffer.AsMemory(_count), _stopping.Token);
                    }
                    catch (Exception ex)
                    {
                        FailStage(ex);
                        return;
                    }
                    if (!receive.IsCompletedSuccessfully)
                    {
                        receive.AsTask().ContinueWith(_onReceived, TaskContinuationOptions.ExecuteSynchronously);
                        return;
                    }
                    if (!Received(receive.Result)) return;   // read once: a ValueTask's result may be taken only once
                }
            }

            private void OnReceived(Task<ValueWebSocketReceiveResult> receive)
            {
                if (receive.IsFaulted) FailStage(receive.Exception!.GetBaseException());
                else if (receive.IsCanceled) FailStage(new OperationCanceledException("the WebSocket receive was cancelled"));
                else if (Received(receive.Result)) Receive();
            }

            /// <summary>Takes one receive's result; true when the message goes on and another receive is needed.</summary>
            private bool Received(ValueWebSocketReceiveResult result)
            {
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CompleteStage();   // RFC 6455: no data follows a close
                    return false;
                }
                if (_buffer is null)
                {
                    _type = result.MessageType;   // the first frame's type is the message's: continuations carry none
                    if (result.EndOfMessage && result.Count == 0)
                    {
                        Emit();   // an empty message: nothing to buffer
                        return false;
                    }
                    _buffer = Rent(Math.Min(FirstReadBytes, _stage._maxMessageBytes + 1));
                }
                _count += result.Count;
                if (_count > _stage._maxMessageBytes)
                {
                    FailStage(new WebSocketMessageTooBigException(_stage._maxMessageBytes));
                    return false;
                }
                if (result.EndOfMessage)
                {
                    Emit();
                    return false;
                }
                if (_count == _buffer.Length) Grow();
                return true;
            }

            private void Emit()
            {
                // One copy, so the buffer goes back to the pool now: the next message may be a long wait away.
                var message = _type == WebSocketMessageType.Binary
                    ? WebSocketMessage.Binary
                    : WebSocketMessage.Text(_buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsSpan(0, _count).ToArray());
                Release();
                Push(_stage._out, message);
            }

            /// <summary>Doubles, up to one byte past the cap, so "too big" is seen, not guessed.</summary>
            private void Grow()
            {
                var bigger = Rent(Math.Min(_buffer!.Length * 2, _stage._maxMessageBytes + 1));
                _buffer.AsSpan(0, _count).CopyTo(bigger);
                var count = _count;
                Release();
                _buffer = bigger;
                _count = count;
            }

            private byte[] Rent(int bytes)
            {
                _stage._buffers?.Rented();
                return ArrayPool<byte>.Shared.Rent(bytes);
            }

            private void Release()
            {
                _count = 0;
                if (_buffer is null) return;
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
                _stage._buffers?.Returned();
            }
        }
    }
}
