using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Orchestrator.Actors.Streams;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// A client's answer, from the upstream's body bytes to what the client gets, in one source stage: the body read
/// (at the consumer's pace, a zero-byte read first so a waiting stream holds no read buffer), SSE framing, one
/// <see cref="Utf8JsonReader"/> scan per event, the end-of-stream rules and the watchdogs, and the splice of a
/// retried or resumed attempt. With the edge's sink, a request materializes two stage logics.
/// <para>
/// End rules: a finish_reason (or <c>[DONE]</c>) makes the answer whole, and then any end is a success (without
/// <c>include_usage</c> the answer ends at the finish_reason, waiting for nothing more); an end before it is a
/// truncation, and silence past <c>first-token-timeout</c> or <c>idle-timeout</c> is a dead peer. Either fails
/// the segment: the stage tells the session (<see cref="SegmentFailed"/>) and carries on with what it answers, the
/// next attempt's body (<see cref="NextSegment"/>) or the error to end with (<see cref="GiveUp"/>).
/// </para>
/// <para>
/// A first attempt's events go out as the upstream's own bytes (<c>data: </c> + the chunk JSON + a blank line),
/// every event of one upstream read in one <see cref="AnswerBlock"/>, so the edge flushes once per read. Only a
/// later segment builds chunk objects, to splice: the first attempt's id, no second role chunk, replayed text
/// withheld until it has caught up, usage summed, and the resume recorded on the finishing chunks.
/// </para>
/// <para>
/// A first attempt whose upstream answered a native request in the client's dialect
/// (<see cref="StreamedBody.KeepsNative"/>) also carries the upstream's events as they came in each block
/// (<see cref="AnswerBlock.Native"/>); the decoded chunks beside them are what the engine reads.
/// </para>
/// </summary>
public static class AnswerStream
{
    /// <summary>A segment failed: the session answers the sender with <see cref="NextSegment"/> or <see cref="GiveUp"/>.</summary>
    public sealed record SegmentFailed(Exception Cause, TranscriptSnapshot Transcript);

    public interface ISegmentReply;

    public sealed record NextSegment(StreamedBody Body, SegmentPlan Plan, SegmentLimits Limits) : ISegmentReply;

    public sealed record GiveUp(ApiError Error) : ISegmentReply;

    /// <summary>
    /// Told to the session when the answer stream ends other than by a failure: whole (<paramref name="Whole"/>), or
    /// because the client stopped reading. <paramref name="SkippedEvents"/>: malformed events passed over in all.
    /// </summary>
    public sealed record Ended(bool Whole, int SkippedEvents)
    {
        /// <summary>What the request is billed for (<see cref="Transcript.Billed"/>), its last finish_reason and first token time.</summary>
        public UsageCounts Billed { get; init; }
        public string? FinishReason { get; init; }
        public long FirstTokenAt { get; init; }
    }

    /// <summary>
    /// What one answer stream is made of. It travels as an attribute, so that every request materializes the same
    /// stage: the edge fuses that stage with its sink once, at start, and reuses the fused graph (fusing is most of
    /// what materializing a small graph costs).
    /// </summary>
    /// <param name="Session">Hears <see cref="SegmentFailed"/> and <see cref="Ended"/>; null: a failed segment fails the stream.</param>
    /// <param name="AskTimeout">How long to wait for the session's answer to a failed segment.</param>
    public sealed record Request(StreamedBody First, Transcript Transcript, SegmentLimits Limits, IActorRef? Session, TimeSpan AskTimeout) : Attributes.IAttribute;

    /// <summary>The stage every answer stream runs; it finds its <see cref="Request"/> among its attributes.</summary>
    public static Source<AnswerBlock, NotUsed> Shared { get; } = Akka.Streams.Dsl.Source.FromGraph(new AnswerStreamStage());

    /// <summary>An answer stream; its parts ride on its attributes, so add to them (AddAttributes), never replace them.</summary>
    public static Source<AnswerBlock, NotUsed> Source(StreamedBody first, Transcript transcript, SegmentLimits limits, IActorRef? session, TimeSpan askTimeout) =>
        Shared.WithAttributes(Attributes.CreateName("answer").And(new Attributes(new Request(first, transcript, limits, session, askTimeout))));

    /// <summary>The request an answer stream was made from, when it is one (for the edge's pre-fused graph).</summary>
    public static Request? RequestOf(Source<AnswerBlock, NotUsed> answer) => answer.Module.Attributes.GetAttribute<Request>();

    private sealed class AnswerStreamStage : GraphStageWithMaterializedValue<SourceShape<AnswerBlock>, NotUsed>
    {
        public readonly Outlet<AnswerBlock> Out = new("answer.out");

        public override SourceShape<AnswerBlock> Shape => new(Out);

        // The first body's attempt hears it is taken while the stream is materialized, before anything else can happen.
        public override ILogicAndMaterializedValue<NotUsed> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
        {
            var request = inheritedAttributes.GetAttribute<Request>() ?? throw new InvalidOperationException("an answer stream materialized without its request");
            request.First.Attempt.Tell(BodyReadStarted.Instance);
            return new LogicAndMaterializedValue<NotUsed>(new Logic(this, request), NotUsed.Instance);
        }
    }

    private sealed class Logic : TimerGraphStageLogic, IOutHandler
    {
        private const string FirstTokenTimer = "first-token-timeout";
        private const string IdleTimer = "idle-timeout";
        private const string AskTimer = "segment-reply";
        /// <summary>The idle watchdog checks this often per idle-timeout (detects silence within 1.25x the limit).</summary>
        private const int IdleChecks = 4;
        /// <summary>One read from the upstream socket; SSE events are small, so this rarely holds more than a few.</summary>
        private const int ReadBufferBytes = 16 * 1024;

        private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
        private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

        private readonly AnswerStreamStage _stage;
        private readonly Request _request;
        private readonly Transcript _transcript;
        private readonly Action<(int Segment, Task<int> Read)> _onReady;
        private readonly Action<(int Segment, Task<int> Read)> _onRead;
        private readonly Action<int> _onStopped;
        private Segment _segment;
        // The current segment's body when it is a source of bytes (run inside this stage's interpreter).
        private SubSinkInlet<ByteString>? _inlet;
        private int _segmentCount;
        private bool _awaitingSession;
        private bool _reported;
        private Utf8JsonWriter? _json;

        // The block being built from one read: whole SSE events, pooled, copied out once when pushed.
        private byte[] _block = [];
        private int _blockLength;
        // The upstream's own events of the block being built (a native first attempt only).
        private ArrayBufferWriter<byte>? _native;
        private long _readAt;   // when the read the block is built from completed, for the relay's overhead (0: not measured)

        public Logic(AnswerStreamStage stage, Request request) : base(stage.Shape)
        {
            _stage = stage;
            _request = request;
            _transcript = request.Transcript;
            _onReady = GetAsyncCallback<(int, Task<int>)>(OnReady);
            _onRead = GetAsyncCallback<(int, Task<int>)>(OnRead);
            _onStopped = GetAsyncCallback<int>(OnStopped);
            _segment = new Segment(request.First, SegmentPlan.First, request.Limits, 0, _transcript);
            SetHandler(stage.Out, this);
        }

        public override void PreStart() => Begin(_segment);

        public override void PostStop()
        {
            Close(_segment, null);
            if (_block.Length > 0) ArrayPool<byte>.Shared.Return(_block);
            _block = [];
            _json?.Dispose();
        }

        public void OnPull() => Advance();

        public void OnDownstreamFinish(Exception cause)
        {
            Close(_segment, null);   // bills the running segment first: the report carries what it streamed
            Report(whole: false);    // the client stopped reading
            CompleteStage();
        }

        // ---- the segment's body ------------------------------------------------------------------------------

        private void Begin(Segment segment)
        {
            var body = segment.Body;
            if (segment.Number > 0) body.Attempt.Tell(BodyReadStarted.Instance);
            var number = segment.Number;
            segment.StopRegistration = body.Stop.Register(() => _onStopped(number));
            if (body.Source is { } source)
            {
                var inlet = new SubSinkInlet<ByteString>(this, $"answer-segment-{number}");
                inlet.SetHandler(new LambdaInHandler(
                    onPush: () => OnBytes(segment, inlet.Grab()),
                    onUpstreamFinish: () => OnBodyEnded(segment, null),
                    onUpstreamFailure: ex => OnBodyEnded(segment, ex)));
                _inlet = inlet;
                source.RunWith(inlet.Sink, SubFusingMaterializer);
            }
            ScheduleOnce(FirstTokenTimer, segment.Limits.FirstTokenTimeout);
            CancelTimer(IdleTimer);
        }

        /// <summary>Pushes what is ready, ends, or reads on; called whenever downstream may want more.</summary>
        private void Advance()
        {
            if (_awaitingSession || !IsAvailable(_stage.Out)) return;
            var segment = _segment;
            if (segment.PendingFailure is { } failure) Fail(segment, failure);
            else if (segment.Ended) Complete();
            else Read(segment);
        }

        private void Read(Segment segment)
        {
            if (segment.Reading || segment.Closed) return;
            segment.Reading = true;
            segment.Reader.Trim();   // while it waits on the upstream, the stream holds no buffer
            if (segment.Body.Source is not null)
            {
                _inlet!.Pull();
                return;
            }
            ValueTask<int> ready;
            try
            {
                // A zero-byte read waits for bytes without a buffer (a body that does not support it answers at once).
                ready = segment.Body.Stream!.ReadAsync(Memory<byte>.Empty);
            }
            catch (Exception ex)
            {
                OnBodyEnded(segment, ex);
                return;
            }
            if (ready.IsCompletedSuccessfully)
            {
                _ = ready.Result;
                ReadNow(segment);
            }
            else WhenDone(ready, segment.Number, _onReady);
        }

        // Its own method: a lambda in the caller would allocate its closure on every read, not only on the async path.
        private static void WhenDone(ValueTask<int> pending, int segment, Action<(int Segment, Task<int> Read)> callback) =>
            pending.AsTask().ContinueWith(t => callback((segment, t)), TaskContinuationOptions.ExecuteSynchronously);

        private void OnReady((int Segment, Task<int> Read) ready)
        {
            if (ready.Segment != _segment.Number || _segment.Closed) return;
            if (ready.Read.IsCompletedSuccessfully) ReadNow(_segment);
            else OnBodyEnded(_segment, ready.Read.Exception?.GetBaseException() ?? new OperationCanceledException("the upstream read was cancelled"));
        }

        private void ReadNow(Segment segment)
        {
            segment.RentReadBuffer(ReadBufferBytes);
            ValueTask<int> read;
            try
            {
                read = segment.Body.Stream!.ReadAsync(segment.ReadBuffer.AsMemory());
            }
            catch (Exception ex)
            {
                OnBodyEnded(segment, ex);
                return;
            }
            if (read.IsCompletedSuccessfully) OnRead(segment, read.Result);
            else WhenDone(read, segment.Number, _onRead);
        }

        private void OnRead((int Segment, Task<int> Read) read)
        {
            if (read.Segment != _segment.Number || _segment.Closed) return;
            if (read.Read.IsCompletedSuccessfully) OnRead(_segment, read.Read.Result);
            else OnBodyEnded(_segment, read.Read.Exception?.GetBaseException() ?? new OperationCanceledException("the upstream read was cancelled"));
        }

        private void OnRead(Segment segment, int count)
        {
            if (count == 0)
            {
                OnBodyEnded(segment, null);
                return;
            }
            segment.Reader.Append(segment.ReadBuffer.AsSpan(0, count));
            segment.ReturnReadBuffer();
            OnBytes(segment, null);
        }

        private void OnStopped(int number)
        {
            if (number == _segment.Number && !_segment.Closed)
                OnBodyEnded(_segment, new OperationCanceledException("the request was stopped"));
        }

        // ---- what a read brought -----------------------------------------------------------------------------

        private void OnBytes(Segment segment, ByteString? bytes)
        {
            segment.Reading = false;
            _readAt = Telemetry.OrchestratorMetrics.OverheadEnabled ? Stopwatch.GetTimestamp() : 0;
            if (bytes is not null) segment.Reader.Append(bytes);
            try
            {
                while (!segment.Ended && segment.PendingFailure is null && segment.Reader.TryReadData(out var data))
                {
                    if (segment.Body.Decoder is { } decoder) OnForeignEvent(segment, decoder, data);
                    else OnEvent(segment, data);
                }
            }
            catch (Exception ex) when (ex is SseLineTooLongException or ReplayDivergedException)
            {
                segment.PendingFailure = ex;
            }
            if (_blockLength > 0 || _native is { WrittenCount: > 0 })
            {
                // Only read when downstream had demand, so it is there for what this read made.
                Push(_stage.Out, TakeBlock());
                if (segment.Ended && segment.PendingFailure is null) Complete();
                return;
            }
            Advance();
        }

        private void OnBodyEnded(Segment segment, Exception? failure)
        {
            segment.Reading = false;
            if (segment.PendingFailure is { } pending) Fail(segment, pending);
            // After the finish_reason the answer is whole; a reset while waiting for usage costs nothing.
            else if (segment.Finished) Complete();
            else Fail(segment, failure ?? new UpstreamTruncatedException("the upstream ended the stream before a finish_reason"));
        }

        protected override void OnTimer(object timerKey)
        {
            var segment = _segment;
            switch (timerKey)
            {
                case FirstTokenTimer:
                    Fail(segment, new UpstreamTimeoutException($"no content within first-token-timeout ({Seconds(segment.Limits.FirstTokenTimeout)})"));
                    return;
                case AskTimer:
                    FailStage(new ChatFailedException(ApiError.Internal("The relay lost track of this stream.")));
                    return;
            }
            // Quiet only counts while we wait on the upstream: a client that does not read holds the stream back
            // by not pulling, and that is backpressure, not a dead peer.
            if (segment.SawEvent || !segment.Reading)
            {
                segment.SawEvent = false;
                segment.QuietChecks = 0;
                return;
            }
            if (++segment.QuietChecks < IdleChecks) return;
            if (segment.Finished) Complete();
            else Fail(segment, new UpstreamTimeoutException($"no event within idle-timeout ({Seconds(segment.Limits.IdleTimeout)})"));
        }

        private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.###}s";

        // ---- endings -----------------------------------------------------------------------------------------

        private void Complete()
        {
            Close(_segment, null);
            if (_segment.Limits.IncludeUsage && !_segment.Limits.HideUsage && !_transcript.SawUsage && _transcript.CompletionId is not null)
            {
                // The client asked for usage and no upstream sent it: an estimate, marked, never nothing or zero.
                WriteEstimatedUsage(_segment.Limits);
                Emit(_stage.Out, TakeBlock(), () =>
                {
                    Report(whole: true);
                    CompleteStage();
                });
                return;
            }
            Report(whole: true);
            CompleteStage();
        }

        /// <summary>
        /// What the answer is billed for (every segment closed by now: <see cref="Bill"/>), shown as the usage: an
        /// estimate per segment that produced tokens, its prompt and about one token per content event.
        /// </summary>
        private void WriteEstimatedUsage(SegmentLimits limits)
        {
            var input = (int)Math.Min(int.MaxValue, _transcript.Billed.Input);
            var output = (int)Math.Min(int.MaxValue, _transcript.Billed.Output);
            Write(new ChatCompletionChunk
            {
                Id = _transcript.CompletionId!,
                Created = _transcript.Created,
                Model = limits.Model,
                Choices = [],
                Usage = new Usage
                {
                    PromptTokens = input,
                    CompletionTokens = output,
                    TotalTokens = input + output,
                    Extra = new() { ["estimated"] = EstimatedTrue },
                },
            });
        }

        private static readonly JsonElement EstimatedTrue = JsonDocument.Parse("true").RootElement.Clone();

        /// <summary>The segment is over without a whole answer: the session decides what comes next.</summary>
        private void Fail(Segment segment, Exception cause)
        {
            if (segment.Closed) return;
            Close(segment, cause);
            CancelTimer(FirstTokenTimer);
            CancelTimer(IdleTimer);
            if (_request.Session is not { } session)
            {
                FailStage(cause);
                return;
            }
            _awaitingSession = true;
            var replies = GetStageActor(OnSessionReply).Ref;
            session.Tell(new SegmentFailed(cause, _transcript.Snapshot()), replies);
            ScheduleOnce(AskTimer, _request.AskTimeout);
        }

        private void OnSessionReply((IActorRef Sender, object Message) reply)
        {
            if (!_awaitingSession) return;
            switch (reply.Message)
            {
                case NextSegment next:
                    _awaitingSession = false;
                    CancelTimer(AskTimer);
                    _segment = new Segment(next.Body, next.Plan, next.Limits, ++_segmentCount, _transcript);
                    Begin(_segment);
                    Advance();
                    break;
                case GiveUp giveUp:
                    FailStage(new ChatFailedException(giveUp.Error));
                    break;
            }
        }

        private void Close(Segment segment, Exception? cause)
        {
            if (segment.Closed) return;
            segment.Closed = true;
            Bill(segment);
            segment.StopRegistration.Dispose();
            if (segment.Body.Source is not null && segment == _segment && _inlet is { } inlet && !inlet.IsClosed) inlet.Cancel();
            segment.Reader.Dispose();
            segment.ReturnReadBuffer();
            // A stream we read ourselves is closed now (aborting a read in flight); a source closed itself when
            // cancelled, and what it holds is its attempt's to release.
            if (segment.Body.Stream is not null)
            {
                try
                {
                    segment.Body.Dispose();
                }
                catch (Exception)
                {
                    // Closing a body that already failed may throw again; the answer is decided either way.
                }
            }
            segment.Body.Attempt.Tell(new BodyReadEnded(cause));
        }

        /// <summary>
        /// A segment ends: it is billed for what its upstream reported, or, when it produced tokens and reported
        /// nothing (cut, or the client left first), for an estimate marked as such.
        /// </summary>
        private void Bill(Segment segment)
        {
            if (segment.Usage is { } usage)
            {
                _transcript.Billed = _transcript.Billed.Plus(usage);
                return;
            }
            if (!segment.GotToken) return;
            var estimate = new UsageCounts(segment.Limits.Input?.Tokens ?? 0, 0, Math.Max(1, segment.ContentEvents), 0, Estimated: true);
            _transcript.Billed = _transcript.Billed.Plus(estimate);
            // What a later segment's usage chunk adds for the client: the client's usage and the bill stay one figure.
            _transcript.UnreportedPromptTokens += (int)estimate.Input;
            _transcript.UnreportedTokens += (int)estimate.Output;
        }

        private void Report(bool whole)
        {
            if (_reported) return;
            _reported = true;
            _request.Session?.Tell(new Ended(whole, _transcript.SkippedEvents)
            {
                Billed = _transcript.Billed,
                FinishReason = _transcript.FinishReason,
                FirstTokenAt = _transcript.FirstTokenAt,
            });
        }

        // ---- one event ---------------------------------------------------------------------------------------

        private void OnEvent(Segment segment, ReadOnlySpan<byte> data)
        {
            segment.SawEvent = true;
            if (data.IsEmpty) return;
            if (data.SequenceEqual("[DONE]"u8))
            {
                if (segment.Replay is { Matched: false })
                    throw new ReplayDivergedException("the replayed answer ended before reproducing the text already sent");
                // The provider said the answer is whole, finish_reason or not.
                segment.Finished = segment.Ended = true;
                return;
            }
            if (segment.PassThrough) PassThrough(segment, data);
            else Splice(segment, data);
        }

        /// <summary>An event in the upstream's own dialect: decoded into chat chunks, each then read like an OpenAI upstream's.</summary>
        private void OnForeignEvent(Segment segment, IStreamDecoder decoder, ReadOnlySpan<byte> data)
        {
            segment.SawEvent = true;   // a ping that decodes to nothing is still a sign of life
            var decoded = segment.Decoded ??= new ArrayBufferWriter<byte>(512);
            decoded.ResetWrittenCount();
            decoder.Decode(data, decoded);
            var rest = decoded.WrittenSpan;
            while (!rest.IsEmpty && !segment.Ended && segment.PendingFailure is null)
            {
                var end = rest.IndexOf((byte)'\n');
                var payload = end < 0 ? rest : rest[..end];
                rest = end < 0 ? default : rest[(end + 1)..];
                if (!payload.IsEmpty) OnEvent(segment, payload);
            }
            // A failure is the session's to handle (another route may answer): the client never sees it as it came.
            if (segment.PendingFailure is null && KeepsNative(segment)) WriteNative(data);
        }

        private static bool KeepsNative(Segment segment) => segment.PassThrough && segment.Body.KeepsNative;

        /// <summary>Appends the upstream's event as it came: <c>event: type\ndata: json\n\n</c> (the type read from the JSON, as the SSE reader keeps data only).</summary>
        private void WriteNative(ReadOnlySpan<byte> data)
        {
            var native = _native ??= new ArrayBufferWriter<byte>(1024);
            if (EventType(data) is { IsEmpty: false } type)
            {
                native.Write("event: "u8);
                native.Write(type);
                native.Write("\n"u8);
            }
            native.Write(DataPrefix);
            native.Write(data);
            native.Write(EventEnd);
        }

        /// <summary>The top-level <c>"type"</c> string of an event's JSON, as raw bytes (empty when it has none or it is escaped).</summary>
        private static ReadOnlySpan<byte> EventType(ReadOnlySpan<byte> data)
        {
            var reader = new Utf8JsonReader(data);
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return default;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isType = reader.ValueTextEquals("type"u8);
                    if (!reader.Read()) return default;
                    if (isType) return reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped ? data.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length) : default;
                    reader.Skip();
                }
            }
            catch (JsonException)
            {
                // Not JSON: written on without an event line.
            }
            return default;
        }

        /// <summary>A first attempt's event: scanned, counted, and written on as it came.</summary>
        private void PassThrough(Segment segment, ReadOnlySpan<byte> data)
        {
            var wantId = _transcript.CompletionId is null;
            ref var text = ref _transcript.TextBuffer;
            if (!ChunkScan.TryScan(data, wantId, ref text, _transcript.TextLength, out var facts))
            {
                _transcript.SkippedEvents++;
                return;
            }
            if (facts.HasError)
            {
                segment.PendingFailure = new UpstreamProtocolException("the upstream reported an error mid-stream" + (facts.ErrorCode is { } code ? $" ({code})" : ""))
                {
                    Status = facts.ErrorStatus,
                    Code = facts.ErrorCode,
                    ProviderMessage = facts.ErrorMessage,
                };
                return;
            }
            if (facts.ChoiceCount == 0)
            {
                // The usage chunk (include_usage) is the last one OpenAI sends; an empty chunk carries nothing.
                if (!facts.HasUsage) return;
                segment.Usage = facts.Usage;
                segment.Ended = true;
                if (segment.Limits.HideUsage) return;   // asked for billing, not by the client
                _transcript.SawUsage = true;
                Write(data);
                return;
            }
            if (facts.MultipleChoices) _transcript.MultipleChoices = true;
            if (facts.IsToken) GotToken(segment);
            if (facts.HasContent) segment.ContentEvents++;
            if (wantId)
            {
                _transcript.CompletionId = facts.Id ?? "";
                _transcript.Created = facts.Created;
            }
            _transcript.Forwarded(facts.TextBytes, facts.HasContent);
            if (facts.HasToolCalls) _transcript.HasToolCalls = true;
            if (facts.FinishReason is not null) _transcript.FinishReason = facts.FinishReason;
            if (facts.HasUsage)
            {
                segment.Usage = facts.Usage;
                _transcript.SawUsage = true;
            }
            Track(segment, facts.Choices, facts.Finished);
            Write(data);
        }

        private void GotToken(Segment segment)
        {
            if (segment.GotToken) return;
            segment.GotToken = true;
            if (_transcript.FirstTokenAt == 0) _transcript.FirstTokenAt = System.Diagnostics.Stopwatch.GetTimestamp();
            _transcript.Telemetry?.FirstToken();
            CancelTimer(FirstTokenTimer);
            var check = TimeSpan.FromTicks(Math.Max(segment.Limits.IdleTimeout.Ticks / IdleChecks, TimeSpan.FromMilliseconds(10).Ticks));
            ScheduleRepeatedly(IdleTimer, check);
        }

        /// <summary>With several choices (n > 1) the answer is whole only when every choice seen has finished.</summary>
        private void Track(Segment segment, ulong choices, ulong finished)
        {
            segment.Choices |= choices;
            segment.FinishedChoices |= finished;
            if (segment.FinishedChoices == 0 || segment.FinishedChoices != segment.Choices) return;
            segment.Finished = true;
            _transcript.Finished = true;
            // Without include_usage nothing follows the finish_reason: end now rather than wait on the socket.
            if (!segment.Limits.IncludeUsage && segment.Limits.SingleChoice) segment.Ended = true;
        }

        /// <summary>A later segment's event: read into a chunk, spliced onto what the client already has, written anew.</summary>
        private void Splice(Segment segment, ReadOnlySpan<byte> data)
        {
            ChatCompletionChunk chunk;
            try
            {
                chunk = JsonSerializer.Deserialize(data, WireJson.Default.ChatCompletionChunk) ?? throw new JsonException("a null stream event");
            }
            catch (JsonException)
            {
                _transcript.SkippedEvents++;
                return;
            }
            if (chunk.Extra is { } extra && extra.TryGetValue("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                segment.PendingFailure = new UpstreamProtocolException("the upstream reported an error mid-stream" + ErrorCode(error));
                return;
            }
            if (chunk.Usage is { } reported) segment.Usage = SpliceUsage(reported);
            if (chunk.Choices is { Count: > 0 } choices && choices[^1].FinishReason is { } reason) _transcript.FinishReason = reason;
            if (ChunkSplice.Spliced(segment, _transcript, chunk, GotToken, Track) is not { } output) return;
            if (output.Usage is not null)
            {
                if (segment.Limits.HideUsage && output.Choices.Count == 0) return;
                _transcript.SawUsage = true;
            }
            Write(output);
        }

        /// <summary>A usage object read whole (a spliced segment), in the counts billing keeps.</summary>
        private static UsageCounts SpliceUsage(Usage usage)
        {
            var counts = new UsageCounts(usage.PromptTokens, 0, usage.CompletionTokens, 0, false);
            if (usage.Extra is not { } extra) return counts;
            if (extra.TryGetValue("prompt_tokens_details", out var prompt) && prompt.ValueKind == JsonValueKind.Object
                && prompt.TryGetProperty("cached_tokens", out var cached) && cached.TryGetInt64(out var cachedCount))
                counts.CachedInput = cachedCount;
            if (extra.TryGetValue("completion_tokens_details", out var completion) && completion.ValueKind == JsonValueKind.Object
                && completion.TryGetProperty("reasoning_tokens", out var reasoning) && reasoning.TryGetInt64(out var reasoningCount))
                counts.Reasoning = reasoningCount;
            if (extra.TryGetValue("estimated", out var estimated) && estimated.ValueKind == JsonValueKind.True) counts.Estimated = true;
            return counts;
        }

        private static string ErrorCode(JsonElement error) =>
            error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                ? $" ({code.GetString()})"
                : "";

        // ---- the block ---------------------------------------------------------------------------------------

        /// <summary>Appends <c>data: {json}\n\n</c>; a chunk spread over several data lines is put back on one line.</summary>
        private void Write(ReadOnlySpan<byte> json)
        {
            var span = Reserve(DataPrefix.Length + json.Length + EventEnd.Length);
            DataPrefix.CopyTo(span);
            var body = span.Slice(DataPrefix.Length, json.Length);
            json.CopyTo(body);
            // Line breaks in valid JSON are whitespace between tokens (never inside a string): a space is the same JSON.
            if (body.IndexOfAny((byte)'\r', (byte)'\n') >= 0)
            {
                body.Replace((byte)'\n', (byte)' ');
                body.Replace((byte)'\r', (byte)' ');
            }
            EventEnd.CopyTo(span[(DataPrefix.Length + json.Length)..]);
            _blockLength += span.Length;
        }

        private void Write(ChatCompletionChunk chunk)
        {
            var buffer = new ArrayBufferWriter<byte>(256);
            _json ??= new Utf8JsonWriter(Stream.Null, new JsonWriterOptions { SkipValidation = true });
            _json.Reset(buffer);
            JsonSerializer.Serialize(_json, chunk, WireJson.Default.ChatCompletionChunk);
            _json.Flush();
            Write(buffer.WrittenSpan);
        }

        private Span<byte> Reserve(int length)
        {
            if (_block.Length - _blockLength < length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_blockLength + length, 4096));
                _block.AsSpan(0, _blockLength).CopyTo(bigger);
                if (_block.Length > 0) ArrayPool<byte>.Shared.Return(_block);
                _block = bigger;
            }
            return _block.AsSpan(_blockLength, length);
        }

        private AnswerBlock TakeBlock()
        {
            var block = new AnswerBlock(_block.AsSpan(0, _blockLength).ToArray())
            {
                ReadAt = _readAt,
                // Typed on purpose: a null byte[] converts to an empty memory, not to no memory.
                Native = KeepsNative(_segment) ? new ReadOnlyMemory<byte>(_native?.WrittenSpan.ToArray() ?? []) : (ReadOnlyMemory<byte>?)null,
            };
            _native?.ResetWrittenCount();
            _blockLength = 0;
            // Between reads the stream holds no block buffer either.
            if (_block.Length > 0) ArrayPool<byte>.Shared.Return(_block);
            _block = [];
            return block;
        }
    }
}
