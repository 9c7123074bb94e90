using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;

namespace Orchestrator.Actors.Streams;

/// <summary>
/// Turns a <c>text/event-stream</c> body, in whatever chunks the transport delivers, into one
/// <see cref="SseEvent"/> per dispatched event. It does not act on <c>[DONE]</c>; see <see cref="SseEvent.IsDone"/>.
/// </summary>
public static class SseFraming
{
    /// <summary>
    /// The framing flow. It fails with <see cref="SseLineTooLongException"/> when a line, or one event's data,
    /// exceeds <paramref name="maxLineBytes"/>, so it holds at most about that much plus one incoming chunk.
    /// </summary>
    public static Flow<ByteString, SseEvent, NotUsed> Flow(int maxLineBytes) =>
        Akka.Streams.Dsl.Flow.FromGraph(new SseFramingStage(maxLineBytes)).Named("sse-framing");

    private sealed class SseFramingStage : GraphStage<FlowShape<ByteString, SseEvent>>
    {
        private readonly int _maxLineBytes;

        public SseFramingStage(int maxLineBytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLineBytes);
            _maxLineBytes = maxLineBytes;
            Shape = new FlowShape<ByteString, SseEvent>(In, Out);
        }

        private Inlet<ByteString> In { get; } = new("sse-framing.in");

        private Outlet<SseEvent> Out { get; } = new("sse-framing.out");

        public override FlowShape<ByteString, SseEvent> Shape { get; }

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : InAndOutGraphStageLogic
        {
            private readonly SseFramingStage _stage;
            private readonly SseReader _reader;

            public Logic(SseFramingStage stage) : base(stage.Shape)
            {
                _stage = stage;
                _reader = new SseReader(stage._maxLineBytes);
                SetHandler(stage.In, this);
                SetHandler(stage.Out, this);
            }

            // We pull only when downstream is waiting, so demand is still there for whatever this chunk completes.
            public override void OnPush()
            {
                _reader.Append(Grab(_stage.In));
                TryEmit();
            }

            public override void OnPull() => TryEmit();

            // Hand out the complete events still buffered before completing.
            public override void OnUpstreamFinish() => TryEmit();

            // The one hook that runs however the stage ends: the reader's buffers go back to the pool.
            public override void PostStop() => _reader.Dispose();

            // One event per pull; upstream is pulled only when the buffered bytes hold no complete event.
            // SseLineTooLongException thrown here fails the stage.
            private void TryEmit()
            {
                if (!IsAvailable(_stage.Out)) return;
                if (_reader.TryRead(out var sseEvent)) Push(_stage.Out, sseEvent);
                else if (IsClosed(_stage.In)) CompleteStage();    // SSE spec: a partial last event is dropped
                else if (!HasBeenPulled(_stage.In)) Pull(_stage.In);
            }
        }
    }
}
