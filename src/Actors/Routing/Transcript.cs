using System.Collections.Immutable;
using System.Text;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// What one client stream has been sent, over every attempt spliced into it. It belongs to that stream: the
/// segment stages write it and the resume callback reads it, all inside the same fused graph, so one thread at a
/// time touches it. The session actor only ever sees <see cref="Snapshot"/>s.
/// </summary>
public sealed class Transcript
{
    private readonly StringBuilder _text = new();

    /// <summary>The id and created time of the first chunk the client got; every later chunk carries the same.</summary>
    public string? CompletionId { get; set; }
    public long Created { get; set; }

    public int ChunksForwarded { get; private set; }
    public bool HasToolCalls { get; set; }
    public bool MultipleChoices { get; set; }
    public bool Finished { get; set; }

    /// <summary>Completion tokens the provider produced in attempts that ended without a usage chunk (one per content event).</summary>
    public int UnreportedTokens { get; set; }

    /// <summary>Resume strategies that produced text, in order ("replay", "prefill", ...).</summary>
    public List<string> Resumes { get; } = [];

    public void Forwarded(string? content)
    {
        ChunksForwarded++;
        if (!string.IsNullOrEmpty(content)) _text.Append(content);
    }

    public TranscriptSnapshot Snapshot() =>
        new(_text.ToString(), ChunksForwarded, HasToolCalls, MultipleChoices, [.. Resumes]);
}

/// <summary>The transcript as the session sees it when a segment fails.</summary>
public sealed record TranscriptSnapshot(string Text, int ChunksForwarded, bool HasToolCalls, bool MultipleChoices, ImmutableArray<string> Resumes)
{
    /// <summary>Answer text (or a tool call) reached the client: going on means resuming, not retrying.</summary>
    public bool HasContent => Text.Length > 0 || HasToolCalls;

    public override string ToString() => $"TranscriptSnapshot({Text.Length} chars, {ChunksForwarded} chunks)";   // never the text
}
