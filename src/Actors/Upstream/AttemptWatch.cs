using Akka;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// Ties a running upstream body to the attempt that owns it: the owner hears when the body starts being read
/// (<see cref="Started"/>) and when it ends (<see cref="Ended"/>), and cancelling <c>stop</c> fails the stream,
/// which closes the body. Bytes pass through untouched: one stage where a kill switch and a termination watch
/// would be two.
/// </summary>
public static class AttemptWatch
{
    public sealed record Started;

    public sealed record Ended(Exception? Cause);

    private static readonly Started StartedInstance = new();

    public static Flow<ByteString, ByteString, NotUsed> Flow(IActorRef owner, CancellationToken stop) =>
        Akka.Streams.Dsl.Flow.FromGraph(new AttemptWatchStage(owner, stop)).Named("attempt-watch");

    private sealed class AttemptWatchStage(IActorRef owner, CancellationToken stop) : GraphStageWithMaterializedValue<FlowShape<ByteString, ByteString>, NotUsed>
    {
        private readonly Inlet<ByteString> _in = new("attempt-watch.in");
        private readonly Outlet<ByteString> _out = new("attempt-watch.out");

        public override FlowShape<ByteString, ByteString> Shape => new(_in, _out);

        // Told while the stream is being materialized, so the owner knows before anything else can happen to it.
        public override ILogicAndMaterializedValue<NotUsed> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
        {
            owner.Tell(StartedInstance);
            return new LogicAndMaterializedValue<NotUsed>(new Logic(this, owner, stop), NotUsed.Instance);
        }

        private sealed class Logic : InAndOutGraphStageLogic
        {
            private readonly AttemptWatchStage _stage;
            private readonly IActorRef _owner;
            private readonly CancellationToken _stop;
            private CancellationTokenRegistration _registration;
            private Exception? _cause;

            public Logic(AttemptWatchStage stage, IActorRef owner, CancellationToken stop) : base(stage.Shape)
            {
                _stage = stage;
                _owner = owner;
                _stop = stop;
                SetHandler(stage._in, this);
                SetHandler(stage._out, this);
            }

            public override void PreStart()
            {
                var stopped = GetAsyncCallback(() => FailStage(_cause = new OperationCanceledException("the request was stopped")));
                _registration = _stop.Register(stopped);
            }

            public override void PostStop()
            {
                _registration.Dispose();
                _owner.Tell(new Ended(_cause));
            }

            public override void OnPush() => Push(_stage._out, Grab(_stage._in));

            public override void OnPull() => Pull(_stage._in);

            public override void OnUpstreamFailure(Exception e)
            {
                _cause = e;
                FailStage(e);
            }
        }
    }
}
