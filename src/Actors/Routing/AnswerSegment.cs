using System.Text.Json;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Orchestrator.Actors.Streams;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// The stage between one attempt's chunks and the client stream. It decides what an end means: a finish_reason
/// (or <c>[DONE]</c>) makes the answer whole, and then any end is a success (without <c>include_usage</c> the
/// stream finishes at the finish_reason, waiting for nothing more); an end before it is a truncation, and silence
/// past <c>first-token-timeout</c> or <c>idle-timeout</c> is a dead peer. Both fail the segment, for the session to
/// retry or resume. For a resumed segment it also splices: the first attempt's id, no second role chunk, replayed
/// text withheld until it has caught up, usage summed, and the resume recorded on the finishing chunks.
/// </summary>
public static class AnswerSegment
{
    public static Flow<ChatCompletionChunk, ChatCompletionChunk, NotUsed> Flow(Transcript transcript, SegmentPlan plan, SegmentLimits limits) =>
        Akka.Streams.Dsl.Flow.FromGraph(new AnswerSegmentStage(transcript, plan, limits)).Named("answer-segment");

    private sealed class AnswerSegmentStage(Transcript transcript, SegmentPlan plan, SegmentLimits limits)
        : GraphStage<FlowShape<ChatCompletionChunk, ChatCompletionChunk>>
    {
        private readonly Transcript _transcript = transcript;
        private readonly SegmentPlan _plan = plan;
        private readonly SegmentLimits _limits = limits;
        private readonly Inlet<ChatCompletionChunk> _in = new("answer-segment.in");
        private readonly Outlet<ChatCompletionChunk> _out = new("answer-segment.out");

        public override FlowShape<ChatCompletionChunk, ChatCompletionChunk> Shape => new(_in, _out);

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
        {
            private const string FirstTokenTimer = "first-token-timeout";
            private const string IdleTimer = "idle-timeout";
            /// <summary>The idle watchdog checks this often per idle-timeout (detects silence within 1.25x the limit).</summary>
            private const int IdleChecks = 4;

            private readonly AnswerSegmentStage _stage;
            private readonly Transcript _transcript;
            private readonly ReplayMatcher? _replay;
            private readonly TimeSpan _idleCheck;
            private bool _gotToken;
            private bool _sawEvent;
            private int _quietChecks;
            private int _contentEvents;
            private bool _finished;
            private bool _completeAfterPush;
            private bool _recorded;
            private readonly HashSet<int> _choices = [];
            private readonly HashSet<int> _finishedChoices = [];

            public Logic(AnswerSegmentStage stage) : base(stage.Shape)
            {
                _stage = stage;
                _transcript = stage._transcript;
                if (stage._plan.ReplayText is { } text) _replay = new ReplayMatcher(text);
                _idleCheck = TimeSpan.FromTicks(Math.Max(stage._limits.IdleTimeout.Ticks / IdleChecks, TimeSpan.FromMilliseconds(10).Ticks));
                SetHandler(stage._in, this);
                SetHandler(stage._out, this);
            }

            public override void PreStart() => ScheduleOnce(FirstTokenTimer, _stage._limits.FirstTokenTimeout);

            public void OnPull() => Pull(_stage._in);

            public void OnDownstreamFinish(Exception cause) => CompleteStage();

            public void OnPush()
            {
                var chunk = Grab(_stage._in);
                _sawEvent = true;
                if (ReferenceEquals(chunk, ChunkDecoding.Skipped))
                {
                    if (!IsClosed(_stage._in)) Pull(_stage._in);   // a malformed event, already counted: the stream goes on
                    return;
                }
                if (ReferenceEquals(chunk, ChunkDecoding.Done) && _replay is { Matched: false })
                {
                    FailStage(new ReplayDivergedException("the replayed answer ended before reproducing the text already sent"));
                    return;
                }
                if (ReferenceEquals(chunk, ChunkDecoding.Done))
                {
                    // The provider said the answer is whole, finish_reason or not.
                    _finished = true;
                    CompleteStage();
                    return;
                }
                var output = Splice(chunk);
                if (output is null)
                {
                    if (!IsClosed(_stage._in)) Pull(_stage._in);
                    return;
                }
                Push(_stage._out, output);
                if (_completeAfterPush) CompleteStage();
            }

            public void OnUpstreamFinish()
            {
                if (_finished) CompleteStage();
                else Fail(new UpstreamTruncatedException("the upstream ended the stream before a finish_reason"));
            }

            public void OnUpstreamFailure(Exception e)
            {
                // After the finish_reason the answer is whole; a reset while waiting for usage costs nothing.
                if (_finished) CompleteStage();
                else Fail(e);
            }

            protected override void OnTimer(object timerKey)
            {
                if (FirstTokenTimer.Equals(timerKey))
                {
                    Fail(new UpstreamTimeoutException($"no content within first-token-timeout ({Seconds(_stage._limits.FirstTokenTimeout)})"));
                    return;
                }
                // Quiet only counts while we wait on the upstream: a client that does not read holds the stream back
                // by not pulling, and that is backpressure, not a dead peer.
                if (_sawEvent || !HasBeenPulled(_stage._in))
                {
                    _sawEvent = false;
                    _quietChecks = 0;
                    return;
                }
                if (++_quietChecks < IdleChecks) return;
                if (_finished) CompleteStage();
                else Fail(new UpstreamTimeoutException($"no event within idle-timeout ({Seconds(_stage._limits.IdleTimeout)})"));
            }

            private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.###}s";

            private void Fail(Exception cause)
            {
                _transcript.UnreportedTokens += _contentEvents;
                FailStage(cause);
            }

            /// <summary>The chunk as the client gets it, or null when it is swallowed.</summary>
            private ChatCompletionChunk? Splice(ChatCompletionChunk chunk)
            {
                var plan = _stage._plan;
                if (chunk.Choices.Count == 0)
                {
                    // The usage chunk (include_usage) is the last one OpenAI sends.
                    if (chunk.Usage is null) return null;
                    _completeAfterPush = true;
                    return Rewrite(chunk, null, chunk.Usage, keepContent: true);
                }

                var choice = chunk.Choices[0];
                if (chunk.Choices.Count > 1 || choice.Index > 0) _transcript.MultipleChoices = true;
                var content = choice.Delta.Content;
                var toolCalls = choice.Delta.Extra?.ContainsKey("tool_calls") == true;
                var finish = choice.FinishReason;
                var isToken = !string.IsNullOrEmpty(content) || toolCalls || finish is not null;
                if (isToken && !_gotToken)
                {
                    _gotToken = true;
                    CancelTimer(FirstTokenTimer);
                    ScheduleRepeatedly(IdleTimer, _idleCheck);
                }
                if (!string.IsNullOrEmpty(content)) _contentEvents++;

                if (plan.Continuation && !isToken && choice.Delta.Role is not null) return null;   // the client has its role chunk
                if (_replay is { } replay)
                {
                    if (!string.IsNullOrEmpty(content))
                    {
                        // Fed even after catching up: the matcher also keeps the seam's whitespace from doubling.
                        if (!replay.TryFeed(content, out var fresh)) throw new ReplayDivergedException("the replayed answer differs from the text already sent");
                        content = fresh;
                    }
                    if (!replay.Matched && (finish is not null || toolCalls))
                        throw new ReplayDivergedException("the replayed answer ended before reproducing the text already sent");
                    if (string.IsNullOrEmpty(content) && finish is null && !toolCalls) return null;   // catching up, or only seam whitespace
                }
                if (_transcript.ChunksForwarded == 0 && _transcript.CompletionId is null)
                {
                    _transcript.CompletionId = chunk.Id;
                    _transcript.Created = chunk.Created;
                }
                if (plan.Strategy is { } strategy && !_recorded)
                {
                    _recorded = true;   // a resume counts once its first new chunk reaches the client
                    _transcript.Resumes.Add(strategy.ToString().ToLowerInvariant());
                }
                _transcript.Forwarded(content);
                if (toolCalls) _transcript.HasToolCalls = true;
                foreach (var c in chunk.Choices)
                {
                    _choices.Add(c.Index);
                    if (c.FinishReason is not null) _finishedChoices.Add(c.Index);
                }
                // With several choices (n > 1) the answer is whole only when every choice has finished.
                if (_finishedChoices.Count > 0 && _finishedChoices.Count == _choices.Count)
                {
                    _finished = true;
                    _transcript.Finished = true;
                    // Without include_usage nothing follows the finish_reason: end now rather than wait on the socket.
                    if (!_stage._limits.IncludeUsage && _stage._limits.SingleChoice) _completeAfterPush = true;
                }
                return Rewrite(chunk, content, null, keepContent: ReferenceEquals(content, choice.Delta.Content));
            }

            private ChatCompletionChunk Rewrite(ChatCompletionChunk chunk, string? content, Usage? usage, bool keepContent)
            {
                var resumed = _transcript.Resumes.Count > 0;
                var sameId = _transcript.CompletionId is null || chunk.Id == _transcript.CompletionId;
                var marks = resumed && (usage is not null || chunk.Choices.Any(c => c.FinishReason is not null));
                var extraTokens = usage is not null ? _transcript.UnreportedTokens : 0;
                if (sameId && keepContent && !marks && extraTokens == 0) return chunk;

                var choices = chunk.Choices;
                if (!keepContent)
                {
                    var first = choices[0];
                    var delta = new ChatDelta { Role = first.Delta.Role, Content = content, Extra = first.Delta.Extra };
                    choices = [new ChunkChoice { Index = first.Index, Delta = delta, FinishReason = first.FinishReason, Extra = first.Extra }, .. choices.Skip(1)];
                }
                var extra = chunk.Extra;
                if (marks)
                {
                    extra = extra is null ? [] : new Dictionary<string, JsonElement>(extra);
                    extra["orchestrator"] = ResumeMark(_transcript);
                }
                return new ChatCompletionChunk
                {
                    Id = _transcript.CompletionId ?? chunk.Id,
                    Object = chunk.Object,
                    Created = _transcript.CompletionId is null ? chunk.Created : _transcript.Created,
                    Model = chunk.Model,
                    Choices = choices,
                    Usage = usage is null ? chunk.Usage : Summed(usage, extraTokens),
                    Extra = extra,
                };
            }

            private static Usage Summed(Usage usage, int extraTokens) => extraTokens == 0 ? usage : new Usage
            {
                PromptTokens = usage.PromptTokens,
                CompletionTokens = usage.CompletionTokens + extraTokens,
                TotalTokens = usage.TotalTokens + extraTokens,
                Extra = usage.Extra,
            };

            /// <summary><c>"orchestrator":{"resumed":N,"strategies":[..],"unreported_tokens":N}</c> on the finishing chunks.</summary>
            private static JsonElement ResumeMark(Transcript transcript)
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("resumed"u8, transcript.Resumes.Count);
                    writer.WriteStartArray("strategies"u8);
                    foreach (var strategy in transcript.Resumes) writer.WriteStringValue(strategy);
                    writer.WriteEndArray();
                    writer.WriteNumber("estimated_completion_tokens"u8, transcript.UnreportedTokens);
                    writer.WriteEndObject();
                }
                using var doc = JsonDocument.Parse(buffer.WrittenMemory);
                return doc.RootElement.Clone();
            }
        }
    }
}
