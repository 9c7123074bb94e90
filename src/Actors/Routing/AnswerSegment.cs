using System.Buffers;
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

namespace Orchestrator.Actors.Routing;

/// <summary>
/// One attempt's answer, from the upstream's body bytes to what the client gets, in one stage: SSE framing, one
/// <see cref="Utf8JsonReader"/> scan per event, the end-of-stream rules and the watchdogs. A finish_reason (or
/// <c>[DONE]</c>) makes the answer whole, and then any end is a success (without <c>include_usage</c> the stream
/// finishes at the finish_reason, waiting for nothing more); an end before it is a truncation, and silence past
/// <c>first-token-timeout</c> or <c>idle-timeout</c> is a dead peer. Both fail the segment, for the session to
/// retry or resume.
/// <para>
/// A first attempt's events go out as the upstream's own bytes (<c>data: </c> + the chunk JSON + a blank line),
/// every event of one upstream read in one <see cref="AnswerBlock"/>, so the edge flushes once per read. Only a
/// later segment (a retry after a role chunk, or a resume) builds chunk objects, to splice: the first attempt's id,
/// no second role chunk, replayed text withheld until it has caught up, usage summed, and the resume recorded on
/// the finishing chunks.
/// </para>
/// </summary>
public static class AnswerSegment
{
    public static Flow<ByteString, AnswerBlock, NotUsed> Flow(Transcript transcript, SegmentPlan plan, SegmentLimits limits, IActorRef? session = null) =>
        Akka.Streams.Dsl.Flow.FromGraph(new AnswerSegmentStage(transcript, plan, limits, session)).Named("answer-segment");

    /// <summary>
    /// Told to the session when a segment ends the client stream: whole (<paramref name="Whole"/>), or because the
    /// client stopped reading. <paramref name="SkippedEvents"/>: malformed events passed over, over every segment.
    /// </summary>
    public sealed record Ended(bool Whole, int SkippedEvents);

    private sealed class AnswerSegmentStage(Transcript transcript, SegmentPlan plan, SegmentLimits limits, IActorRef? session)
        : GraphStage<FlowShape<ByteString, AnswerBlock>>
    {
        private readonly Transcript _transcript = transcript;
        private readonly SegmentPlan _plan = plan;
        private readonly SegmentLimits _limits = limits;
        private readonly IActorRef? _session = session;
        private readonly Inlet<ByteString> _in = new("answer-segment.in");
        private readonly Outlet<AnswerBlock> _out = new("answer-segment.out");

        public override FlowShape<ByteString, AnswerBlock> Shape => new(_in, _out);

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
        {
            private const string FirstTokenTimer = "first-token-timeout";
            private const string IdleTimer = "idle-timeout";
            /// <summary>The idle watchdog checks this often per idle-timeout (detects silence within 1.25x the limit).</summary>
            private const int IdleChecks = 4;

            private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
            private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

            private readonly AnswerSegmentStage _stage;
            private readonly Transcript _transcript;
            private readonly SegmentLimits _limits;
            private readonly ReplayMatcher? _replay;
            private readonly bool _passThrough;
            private readonly TimeSpan _idleCheck;
            private readonly SseReader _reader;
            private readonly Utf8JsonWriter? _json;

            // The block being built from one read: whole SSE events, pooled, copied out once when pushed.
            private byte[] _block = [];
            private int _blockLength;

            private bool _gotToken;
            private bool _sawEvent;
            private int _quietChecks;
            private int _contentEvents;
            private bool _finished;
            private bool _ended;
            private bool _recorded;
            private bool _reported;
            private Exception? _pendingFailure;
            private ulong _choices;
            private ulong _finishedChoices;

            public Logic(AnswerSegmentStage stage) : base(stage.Shape)
            {
                _stage = stage;
                _transcript = stage._transcript;
                _limits = stage._limits;
                _reader = new SseReader(_limits.MaxEventBytes);
                if (stage._plan.ReplayText is { } text) _replay = new ReplayMatcher(text);
                // A first attempt (no splice, nothing resumed before it) is passed through as the upstream's bytes.
                _passThrough = !stage._plan.Continuation && stage._plan.Strategy is null && _replay is null && _transcript.Resumes.Count == 0;
                if (!_passThrough) _json = new Utf8JsonWriter(Stream.Null, new JsonWriterOptions { SkipValidation = true });
                _idleCheck = TimeSpan.FromTicks(Math.Max(_limits.IdleTimeout.Ticks / IdleChecks, TimeSpan.FromMilliseconds(10).Ticks));
                SetHandler(stage._in, this);
                SetHandler(stage._out, this);
            }

            public override void PreStart() => ScheduleOnce(FirstTokenTimer, _limits.FirstTokenTimeout);

            public override void PostStop()
            {
                _reader.Dispose();
                if (_block.Length > 0) ArrayPool<byte>.Shared.Return(_block);
                _block = [];
                _json?.Dispose();
            }

            public void OnPull()
            {
                if (_pendingFailure is { } failure) Fail(failure);
                else if (_ended) Complete();
                else Idle();
            }

            public void OnDownstreamFinish(Exception cause)
            {
                Report(whole: false);   // the client stopped reading
                CompleteStage();
            }

            public void OnPush()
            {
                _reader.Append(Grab(_stage._in));
                try
                {
                    while (!_ended && _pendingFailure is null && _reader.TryReadData(out var data)) OnEvent(data);
                }
                catch (Exception ex) when (ex is SseLineTooLongException or ReplayDivergedException)
                {
                    _pendingFailure = ex;
                }
                if (_blockLength > 0)
                {
                    // Only pulled when downstream had demand, so it is there for what this read made.
                    Push(_stage._out, TakeBlock());
                    if (_ended && _pendingFailure is null) Complete();
                    return;
                }
                OnPull();
            }

            public void OnUpstreamFinish()
            {
                if (_pendingFailure is { } failure) Fail(failure);
                else if (_finished) Complete();
                else Fail(new UpstreamTruncatedException("the upstream ended the stream before a finish_reason"));
            }

            public void OnUpstreamFailure(Exception e)
            {
                // After the finish_reason the answer is whole; a reset while waiting for usage costs nothing.
                if (_finished) Complete();
                else Fail(e);
            }

            protected override void OnTimer(object timerKey)
            {
                if (FirstTokenTimer.Equals(timerKey))
                {
                    Fail(new UpstreamTimeoutException($"no content within first-token-timeout ({Seconds(_limits.FirstTokenTimeout)})"));
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
                if (_finished) Complete();
                else Fail(new UpstreamTimeoutException($"no event within idle-timeout ({Seconds(_limits.IdleTimeout)})"));
            }

            private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.###}s";

            /// <summary>Waits for the next read; while it waits the stream holds no buffer.</summary>
            private void Idle()
            {
                _reader.Trim();
                if (!HasBeenPulled(_stage._in)) Pull(_stage._in);
            }

            private void Complete()
            {
                Report(whole: true);
                CompleteStage();
            }

            private void Fail(Exception cause)
            {
                _transcript.UnreportedTokens += _contentEvents;
                _contentEvents = 0;
                FailStage(cause);
            }

            private void Report(bool whole)
            {
                if (_reported) return;
                _reported = true;
                _stage._session?.Tell(new Ended(whole, _transcript.SkippedEvents));
            }

            // ---- one event ---------------------------------------------------------------------------------------

            private void OnEvent(ReadOnlySpan<byte> data)
            {
                _sawEvent = true;
                if (data.IsEmpty) return;
                if (data.SequenceEqual("[DONE]"u8))
                {
                    if (_replay is { Matched: false })
                        throw new ReplayDivergedException("the replayed answer ended before reproducing the text already sent");
                    // The provider said the answer is whole, finish_reason or not.
                    _finished = _ended = true;
                    return;
                }
                if (_passThrough) PassThrough(data);
                else Splice(data);
            }

            /// <summary>A first attempt's event: scanned, counted, and written on as it came.</summary>
            private void PassThrough(ReadOnlySpan<byte> data)
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
                    _pendingFailure = new UpstreamProtocolException("the upstream reported an error mid-stream" + (facts.ErrorCode is { } code ? $" ({code})" : ""));
                    return;
                }
                if (facts.ChoiceCount == 0)
                {
                    // The usage chunk (include_usage) is the last one OpenAI sends; an empty chunk carries nothing.
                    if (!facts.HasUsage) return;
                    Write(data);
                    _ended = true;
                    return;
                }
                if (facts.MultipleChoices) _transcript.MultipleChoices = true;
                if (facts.IsToken) GotToken();
                if (facts.HasContent) _contentEvents++;
                if (wantId)
                {
                    _transcript.CompletionId = facts.Id ?? "";
                    _transcript.Created = facts.Created;
                }
                _transcript.Forwarded(facts.TextBytes, facts.HasContent);
                if (facts.HasToolCalls) _transcript.HasToolCalls = true;
                Track(facts.Choices, facts.Finished);
                Write(data);
            }

            private void GotToken()
            {
                if (_gotToken) return;
                _gotToken = true;
                CancelTimer(FirstTokenTimer);
                ScheduleRepeatedly(IdleTimer, _idleCheck);
            }

            /// <summary>With several choices (n > 1) the answer is whole only when every choice seen has finished.</summary>
            private void Track(ulong choices, ulong finished)
            {
                _choices |= choices;
                _finishedChoices |= finished;
                if (_finishedChoices == 0 || _finishedChoices != _choices) return;
                _finished = true;
                _transcript.Finished = true;
                // Without include_usage nothing follows the finish_reason: end now rather than wait on the socket.
                if (!_limits.IncludeUsage && _limits.SingleChoice) _ended = true;
            }

            /// <summary>A later segment's event: read into a chunk, spliced onto what the client already has, written anew.</summary>
            private void Splice(ReadOnlySpan<byte> data)
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
                    _pendingFailure = new UpstreamProtocolException("the upstream reported an error mid-stream" + ErrorCode(error));
                    return;
                }
                if (Spliced(chunk) is { } output) Write(output);
            }

            private static string ErrorCode(JsonElement error) =>
                error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                    ? $" ({code.GetString()})"
                    : "";

            /// <summary>The chunk as the client gets it, or null when it is swallowed.</summary>
            private ChatCompletionChunk? Spliced(ChatCompletionChunk chunk)
            {
                var plan = _stage._plan;
                if (chunk.Choices.Count == 0)
                {
                    if (chunk.Usage is null) return null;
                    _ended = true;
                    return Rewrite(chunk, null, chunk.Usage, keepContent: true);
                }

                var choice = chunk.Choices[0];
                if (chunk.Choices.Count > 1 || choice.Index > 0) _transcript.MultipleChoices = true;
                var content = choice.Delta.Content;
                var toolCalls = choice.Delta.Extra?.ContainsKey("tool_calls") == true;
                var finish = choice.FinishReason;
                var isToken = !string.IsNullOrEmpty(content) || toolCalls || finish is not null;
                if (isToken) GotToken();
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
                ulong choices = 0, finished = 0;
                foreach (var c in chunk.Choices)
                {
                    var bit = 1UL << Math.Min(c.Index, 63);
                    choices |= bit;
                    if (c.FinishReason is not null) finished |= bit;
                }
                Track(choices, finished);
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

            /// <summary><c>"orchestrator":{"resumed":N,"strategies":[..],"estimated_completion_tokens":N}</c> on the finishing chunks.</summary>
            private static JsonElement ResumeMark(Transcript transcript)
            {
                var buffer = new ArrayBufferWriter<byte>(128);
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

            // ---- the block -------------------------------------------------------------------------------------

            /// <summary>Appends <c>data: {json}\n\n</c>; a chunk spread over several data lines is put back on one line.</summary>
            private void Write(ReadOnlySpan<byte> json)
            {
                var span = Reserve(DataPrefix.Length + json.Length + EventEnd.Length);
                DataPrefix.CopyTo(span);
                var body = span.Slice(DataPrefix.Length, json.Length);
                json.CopyTo(body);
                // Line breaks in valid JSON are whitespace between tokens (never inside a string): a space is the same JSON.
                if (body.IndexOfAny((byte)'\r', (byte)'\n') >= 0) body.Replace((byte)'\n', (byte)' ');
                if (body.IndexOf((byte)'\r') >= 0) body.Replace((byte)'\r', (byte)' ');
                EventEnd.CopyTo(span[(DataPrefix.Length + json.Length)..]);
                _blockLength += span.Length;
            }

            private void Write(ChatCompletionChunk chunk)
            {
                var buffer = new ArrayBufferWriter<byte>(256);
                _json!.Reset(buffer);
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
                var block = new AnswerBlock(_block.AsSpan(0, _blockLength).ToArray());
                _blockLength = 0;
                // Between reads the stream holds no block buffer either.
                ArrayPool<byte>.Shared.Return(_block);
                _block = [];
                return block;
            }
        }
    }
}
