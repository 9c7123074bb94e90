using System.Collections.Immutable;
using System.Text;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// What one client stream has been sent, over every attempt spliced into it. It belongs to that stream: the
/// segment stages write it and the resume callback reads it, all inside the same fused graph, so one thread at a
/// time touches it. The session actor only ever sees <see cref="Snapshot"/>s. The answer text is kept (as UTF-8)
/// only when a resume could use it.
/// </summary>
public sealed class Transcript(bool keepText = true)
{
    private byte[]? _text = keepText ? [] : null;
    private int _textBytes;

    /// <summary>The id and created time of the first chunk the client got; every later chunk carries the same.</summary>
    public string? CompletionId { get; set; }
    public long Created { get; set; }

    public int ChunksForwarded { get; private set; }
    public bool HasToolCalls { get; set; }
    public bool MultipleChoices { get; set; }
    public bool Finished { get; set; }

    /// <summary>Content events forwarded; text reached the client when this is above zero, kept or not.</summary>
    public int ContentEvents { get; private set; }

    /// <summary>Malformed upstream events passed over, over every attempt (for the provider's counters).</summary>
    public int SkippedEvents { get; set; }

    /// <summary>A usage chunk reached the client.</summary>
    public bool SawUsage { get; set; }

    /// <summary>Completion tokens the provider produced in attempts that ended without a usage chunk (one per content event).</summary>
    public int UnreportedTokens { get; set; }

    /// <summary>
    /// The prompt of each attempt that produced tokens and ended without a usage chunk, estimated: billed like the rest
    /// (every segment that produced tokens pays for its prompt), so the usage the client is shown adds it too.
    /// </summary>
    public int UnreportedPromptTokens { get; set; }

    /// <summary>
    /// What the request is billed for so far: each closed segment's usage as its upstream reported it, or, for one
    /// that produced tokens and reported nothing, an estimate (marked). A segment that produced nothing adds nothing.
    /// </summary>
    public UsageCounts Billed { get; set; }

    /// <summary>The last finish_reason the client got.</summary>
    public string? FinishReason { get; set; }

    /// <summary>When the first token reached the stream (<see cref="System.Diagnostics.Stopwatch"/> ticks), 0 before.</summary>
    public long FirstTokenAt { get; set; }
    /// <summary>Set when the client's stream starts: the stream reports its first token there.</summary>
    public Telemetry.StreamTelemetry? Telemetry { get; set; }

    /// <summary>Resume strategies that produced text, in order ("replay", "prefill", ...).</summary>
    public List<string> Resumes { get; } = [];

    /// <summary>The buffer a scan unescapes content into, from <see cref="TextLength"/> on; <see cref="Forwarded(int, bool)"/> keeps what it wrote.</summary>
    internal ref byte[]? TextBuffer => ref _text;

    internal int TextLength => _textBytes;

    /// <summary>A chunk reached the client; <paramref name="textBytes"/> of its content were written after <see cref="TextLength"/>.</summary>
    internal void Forwarded(int textBytes, bool hasContent)
    {
        ChunksForwarded++;
        if (hasContent) ContentEvents++;
        _textBytes += textBytes;
    }

    public void Forwarded(string? content)
    {
        ChunksForwarded++;
        if (string.IsNullOrEmpty(content)) return;
        ContentEvents++;
        if (_text is null) return;
        var needed = _textBytes + Encoding.UTF8.GetMaxByteCount(content.Length);
        if (_text.Length < needed)
        {
            var bigger = new byte[Math.Max(needed, Math.Max(_text.Length * 2, 256))];
            _text.AsSpan(0, _textBytes).CopyTo(bigger);
            _text = bigger;
        }
        _textBytes += Encoding.UTF8.GetBytes(content, _text.AsSpan(_textBytes));
    }

    public string Text => _text is null ? "" : Encoding.UTF8.GetString(_text, 0, _textBytes);

    public TranscriptSnapshot Snapshot() =>
        new(Text, ContentEvents > 0, ChunksForwarded, HasToolCalls, MultipleChoices, [.. Resumes])
        {
            SkippedEvents = SkippedEvents,
            Billed = Billed,
            FinishReason = FinishReason,
            FirstTokenAt = FirstTokenAt,
        };
}

/// <summary>The transcript as the session sees it when a segment fails.</summary>
public sealed record TranscriptSnapshot(string Text, bool SentText, int ChunksForwarded, bool HasToolCalls, bool MultipleChoices, ImmutableArray<string> Resumes)
{
    /// <summary>Answer text (or a tool call) reached the client: going on means resuming, not retrying.</summary>
    public bool HasContent => SentText || HasToolCalls;

    /// <summary>Malformed events passed over so far, over every attempt.</summary>
    public int SkippedEvents { get; init; }

    /// <summary>The request's billed usage so far (<see cref="Transcript.Billed"/>).</summary>
    public UsageCounts Billed { get; init; }
    public string? FinishReason { get; init; }
    public long FirstTokenAt { get; init; }

    public override string ToString() => $"TranscriptSnapshot({Text.Length} chars, {ChunksForwarded} chunks)";   // never the text
}
