using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// The client stream of <see cref="ChatSessionActor"/>: attempts' segments spliced into one answer. A segment that
/// fails asks the session what comes next (<see cref="SegmentFailed"/>); one that ends the stream tells it
/// (<see cref="AnswerSegment.Ended"/>).
/// </summary>
public sealed partial class ChatSessionActor
{
    private sealed record SegmentFailed(Exception Cause, TranscriptSnapshot Transcript);
    private interface ISegmentReply;
    private sealed record NextSegment(Source<AnswerBlock, NotUsed> Answer) : ISegmentReply;
    private sealed record SegmentGiveUp(ApiError Error) : ISegmentReply;

    /// <summary>One attempt's body as the client gets it, under the current route's event size cap; its end is reported here.</summary>
    private Source<AnswerBlock, NotUsed> Segment(Source<ByteString, NotUsed> body, SegmentPlan plan)
    {
        var limits = _limits with { MaxEventBytes = _settings.Providers[CurrentRoute.Provider].Upstream.MaxEventBytes };
        return body.Via(AnswerSegment.Flow(_transcript, plan, limits, Self));
    }

    /// <summary>
    /// The stream the client reads: the first attempt's answer, then, whenever a segment fails, whatever this actor
    /// answers (a retry, a resume, or the error to end with). A segment that ends the stream tells this actor.
    /// </summary>
    private Source<AnswerBlock, NotUsed> ClientStream(Source<AnswerBlock, NotUsed> first)
    {
        var transcript = _transcript;
        var self = Self;
        var askTimeout = _model.Limits.TotalTimeout + TimeSpan.FromSeconds(5);
        return first.RecoverWithRetries(cause => cause is ChatFailedException
            ? null!   // the session gave up: the stream ends with that error
            : Source.FromTask(AskNext(self, new SegmentFailed(cause, transcript.Snapshot()), askTimeout))
                .ConcatMany(reply => reply switch
                {
                    NextSegment next => next.Answer,
                    SegmentGiveUp giveUp => Source.Failed<AnswerBlock>(new ChatFailedException(giveUp.Error)),
                    _ => throw new InvalidOperationException("unexpected reply"),
                }), -1);
    }

    /// <summary>The session's answer; if it cannot answer (gone), the stream ends rather than asking again forever.</summary>
    private static async Task<ISegmentReply> AskNext(IActorRef session, SegmentFailed failed, TimeSpan timeout)
    {
        try
        {
            return await session.Ask<ISegmentReply>(failed, timeout);
        }
        catch (Exception)
        {
            return new SegmentGiveUp(ApiError.Internal("The relay lost track of this stream."));
        }
    }

    /// <summary>What cut a segment, as a failure class (a replay that diverged counts as a protocol failure).</summary>
    private UpstreamFailure Classify(SegmentFailed failed)
    {
        var failure = failed.Cause is ReplayDivergedException
            ? new UpstreamFailure(FailureKind.Protocol, null, failed.Cause.Message)
            : FailureClassifier.FromException(failed.Cause);
        if (failure.Kind == FailureKind.Internal) _log.Error(failed.Cause, "Request {RequestId}: segment failed", RequestId);
        return failure;
    }
}
