using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// The client stream of <see cref="ChatSessionActor"/>: attempts' segments spliced into one answer by one
/// <see cref="AnswerStream"/> stage. A segment that fails asks the session what comes next
/// (<see cref="AnswerStream.SegmentFailed"/>); the end of the stream is told to it (<see cref="AnswerStream.Ended"/>).
/// </summary>
public sealed partial class ChatSessionActor
{
    /// <summary>The limits a segment on the current route runs under (its provider's event size cap).</summary>
    private SegmentLimits CurrentLimits() => _limits with { MaxEventBytes = _settings.Providers[CurrentRoute.Provider].Upstream.MaxEventBytes };

    /// <summary>
    /// The stream the client reads: the first attempt's body, then, whenever a segment fails, whatever this actor
    /// answers (a retry, a resume, or the error to end with). The stream tells this actor when it ends.
    /// </summary>
    private Source<AnswerBlock, NotUsed> ClientStream(StreamedBody first) =>
        AnswerStream.Source(first, _transcript, CurrentLimits(), Self, _model.Limits.TotalTimeout + TimeSpan.FromSeconds(5));

    /// <summary>What cut a segment, as a failure class (a replay that diverged counts as a protocol failure).</summary>
    private UpstreamFailure Classify(AnswerStream.SegmentFailed failed)
    {
        var failure = failed.Cause is ReplayDivergedException
            ? new UpstreamFailure(FailureKind.Protocol, null, failed.Cause.Message)
            : FailureClassifier.FromException(failed.Cause);
        if (failure.Kind == FailureKind.Internal) Log.Error(failed.Cause, "Request {RequestId}: segment failed", RequestId);
        return failure;
    }
}
