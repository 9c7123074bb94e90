using System.Buffers;
using System.IO.Pipelines;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Orchestrator.Actors.Dialects;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The end of an answer's stream: each <see cref="AnswerBlock"/> (the events of one upstream read) is written into
/// the response pipe and flushed once, and the next is pulled only when that flush is done, so a client that reads
/// slowly slows the upstream read. A stream quiet for <c>heartbeat-interval</c> gets <c>: keep-alive</c> (proxies
/// and load balancers keep it open; clients and SDKs ignore comments). A client that goes away fails the stream,
/// which closes the upstream call. The materialized task completes once the last flush has.
/// </summary>
public static class SseResponseSink
{
    /// <summary>Where one response goes; an attribute, so every request materializes the same stage (see <see cref="EdgeStreams"/>).</summary>
    public sealed record Target(PipeWriter Pipe, TimeSpan HeartbeatInterval, CancellationToken Aborted) : Attributes.IAttribute
    {
        /// <summary>Set when the client speaks another dialect: each block is written through it instead of as it is.</summary>
        public FrontTranslator? Translator { get; init; }

        /// <summary>Times each block from its upstream read to its write here (the relay's overhead); null: not measured.</summary>
        public Telemetry.RelayClock? Clock { get; init; }
    }

    /// <summary>The stage every response runs; it finds its <see cref="Target"/> among its attributes.</summary>
    public static Sink<AnswerBlock, Task> Shared { get; } = Sink.FromGraph(new SseResponseSinkStage());

    public static Sink<AnswerBlock, Task> Create(PipeWriter pipe, TimeSpan heartbeatInterval, CancellationToken aborted) =>
        Shared.WithAttributes(Attributes.CreateName("sse-response").And(new Attributes(new Target(pipe, heartbeatInterval, aborted))));

    /// <summary>An SSE comment: clients and SDKs ignore it, proxies and load balancers see a live stream.</summary>
    internal static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();

    private sealed class ClientGoneException() : Exception("the client disconnected");

    private sealed class SseResponseSinkStage : GraphStageWithMaterializedValue<SinkShape<AnswerBlock>, Task>
    {
        private readonly Inlet<AnswerBlock> _in = new("sse-response.in");

        public override SinkShape<AnswerBlock> Shape => new(_in);

        public override ILogicAndMaterializedValue<Task> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
        {
            var target = inheritedAttributes.GetAttribute<Target>() ?? throw new InvalidOperationException("an SSE response materialized without its target");
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new LogicAndMaterializedValue<Task>(new Logic(this, target, done), done.Task);
        }

        private sealed class Logic : TimerGraphStageLogic, IInHandler
        {
            private const string KeepAliveTimer = "heartbeat-interval";

            private readonly SseResponseSinkStage _stage;
            private readonly Target _target;
            private readonly TaskCompletionSource _done;
            private readonly Action<Task<FlushResult>> _onFlushed;
            private CancellationTokenRegistration _abort;
            private bool _flushing;
            private bool _wrote;
            private AnswerBlock? _waiting;
            private bool _upstreamDone;
            private Exception? _upstreamFailure;

            public Logic(SseResponseSinkStage stage, Target target, TaskCompletionSource done) : base(stage.Shape)
            {
                _stage = stage;
                _target = target;
                _done = done;
                _onFlushed = GetAsyncCallback<Task<FlushResult>>(OnFlushed);
                SetHandler(stage._in, this);
            }

            public override void PreStart()
            {
                var gone = GetAsyncCallback(() => Fail(new ClientGoneException()));
                _abort = _target.Aborted.Register(gone);
                // Checked twice per interval: a quiet stream hears from us after 1 to 1.5 intervals.
                ScheduleRepeatedly(KeepAliveTimer, _target.HeartbeatInterval / 2);
                Pull(_stage._in);
            }

            public override void PostStop()
            {
                _abort.Dispose();
                if (!_done.Task.IsCompleted) _done.TrySetException(new AbruptStageTerminationException(this));
            }

            public void OnPush()
            {
                var block = Grab(_stage._in);
                if (_flushing) _waiting = block;   // a keep-alive is being flushed: the pipe takes one writer at a time
                else Write(block);
            }

            public void OnUpstreamFinish()
            {
                _upstreamDone = true;
                if (!_flushing) Finish();
            }

            public void OnUpstreamFailure(Exception e)
            {
                _upstreamDone = true;
                _upstreamFailure = e;
                if (!_flushing) Finish();
            }

            protected override void OnTimer(object timerKey)
            {
                var quiet = !_wrote;
                _wrote = false;
                if (!quiet || _flushing || _upstreamDone) return;
                if (_target.Translator is { } translator) _target.Pipe.Write(translator.Encoder.KeepAlive);
                else _target.Pipe.Write(KeepAliveComment);
                Flush();
                _wrote = false;   // a keep-alive is not news: the next quiet check sends another
            }

            private void Write(AnswerBlock block)
            {
                if (_target.Translator is { } translator)
                {
                    try
                    {
                        translator.Write(block, _target.Pipe);
                    }
                    catch (Exception ex)
                    {
                        Fail(ex);
                        return;
                    }
                }
                else _target.Pipe.Write(block.Sse.Span);
                Flush();
                _target.Clock?.Written(block.ReadAt);
            }

            private void Flush()
            {
                _wrote = true;
                ValueTask<FlushResult> flush;
                try
                {
                    flush = _target.Pipe.FlushAsync();
                }
                catch (Exception ex)
                {
                    Fail(ex);
                    return;
                }
                if (flush.IsCompletedSuccessfully) Flushed(flush.Result);   // read once: a ValueTask's result may be taken only once
                else
                {
                    _flushing = true;
                    flush.AsTask().ContinueWith(_onFlushed, TaskContinuationOptions.ExecuteSynchronously);
                }
            }

            private void OnFlushed(Task<FlushResult> flush)
            {
                _flushing = false;
                if (flush.IsCompletedSuccessfully) Flushed(flush.Result);
                else Fail(new ClientGoneException());
            }

            private void Flushed(FlushResult result)
            {
                if (result.IsCanceled || result.IsCompleted)
                {
                    Fail(new ClientGoneException());
                    return;
                }
                if (_waiting is { } waiting)
                {
                    _waiting = null;
                    Write(waiting);
                }
                else if (_upstreamDone) Finish();
                else if (!HasBeenPulled(_stage._in)) Pull(_stage._in);
            }

            private void Finish()
            {
                if (_upstreamFailure is { } failure) _done.TrySetException(failure);
                else _done.TrySetResult();
                CompleteStage();
            }

            private void Fail(Exception cause)
            {
                _done.TrySetException(cause);
                FailStage(cause);
            }
        }
    }
}
