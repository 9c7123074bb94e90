using Orchestrator.Messages.Chat;

namespace Orchestrator.Messages.Answers;

/// <summary>
/// The canonical answer model: what any dialect's answer stream says, in words every dialect can express. Each
/// upstream kind decodes its events into these (an <c>IAnswerDecoder</c>), each front encodes these into its own
/// events (an <c>IAnswerEncoder</c>): N fronts + M upstreams, not N x M translators. Inside the engine the stream
/// travels as OpenAI <c>chat.completion.chunk</c> JSON (the lean path's bytes), which <c>OpenAiChunks</c> writes
/// from and reads into these events without loss (extensions: <c>reasoning_content</c>, <c>reasoning_signature</c>,
/// <c>prompt_tokens_details.cache_write_tokens</c>, <c>usage.estimated</c>).
/// <para>
/// One closed family in one file: the cases read best side by side. <c>Choice</c> is the OpenAI choice index
/// (0 unless the caller asked for n &gt; 1; only the chat front has more than one). Classes, not records: a
/// record would print answer text into any log that formats it.
/// </para>
/// </summary>
public abstract class AnswerEvent
{
    public override string ToString() => GetType().Name;   // never the text
}

/// <summary>The answer begins: the id every later event belongs to, the model that answers, and when.</summary>
public sealed class MessageStarted(string id, string model, long created) : AnswerEvent
{
    public string Id { get; } = id;
    public string Model { get; } = model;
    /// <summary>Unix seconds.</summary>
    public long Created { get; } = created;
}

public sealed class TextDelta(int choice, string text) : AnswerEvent
{
    public int Choice { get; } = choice;
    public string Text { get; } = text;
}

/// <summary>Reasoning text (Anthropic <c>thinking_delta</c>, OpenAI-compatible <c>reasoning_content</c>, Gemini thought parts).</summary>
public sealed class ThinkingDelta(int choice, string text) : AnswerEvent
{
    public int Choice { get; } = choice;
    public string Text { get; } = text;
}

/// <summary>The signature that seals a thinking block (Anthropic <c>signature_delta</c>, Gemini <c>thoughtSignature</c>); clients send it back.</summary>
public sealed class ThinkingSignature(int choice, string signature) : AnswerEvent
{
    public int Choice { get; } = choice;
    public string Signature { get; } = signature;
}

/// <summary>The model declined (OpenAI <c>refusal</c>).</summary>
public sealed class RefusalDelta(int choice, string text) : AnswerEvent
{
    public int Choice { get; } = choice;
    public string Text { get; } = text;
}

/// <summary>
/// A tool call begins. <see cref="Index"/> counts the calls of one choice from 0 (never all 0 when several stream);
/// <see cref="Id"/> is the upstream's own id, passed through unchanged so a client's tool result matches it.
/// </summary>
public sealed class ToolCallStarted(int choice, int index, string id, string name) : AnswerEvent
{
    public int Choice { get; } = choice;
    public int Index { get; } = index;
    public string Id { get; } = id;
    public string Name { get; } = name;
}

/// <summary>A piece of a tool call's arguments JSON; the pieces of one call concatenated are its arguments.</summary>
public sealed class ToolArgumentsDelta(int choice, int index, string json) : AnswerEvent
{
    public int Choice { get; } = choice;
    public int Index { get; } = index;
    public string Json { get; } = json;
}

/// <summary>
/// A tool call is complete. A call that streamed no argument bytes has the arguments <c>{}</c>: encoders write
/// <c>"{}"</c> for it, never an empty string.
/// </summary>
public sealed class ToolCallEnded(int choice, int index) : AnswerEvent
{
    public int Choice { get; } = choice;
    public int Index { get; } = index;
}

/// <summary>Token counts; the last one reported wins (Anthropic's are cumulative, OpenAI sends one at the end).</summary>
public sealed class UsageReported(TokenUsage usage) : AnswerEvent
{
    public TokenUsage Usage { get; } = usage;
}

/// <summary>A choice is complete, for <see cref="Reason"/>.</summary>
public sealed class Finished(int choice, FinishReason reason) : AnswerEvent
{
    public int Choice { get; } = choice;
    public FinishReason Reason { get; } = reason;
}

/// <summary>
/// The upstream reported an error inside the stream (Anthropic <c>event: error</c>, an OpenAI <c>error</c> chunk).
/// The engine treats it as a failed attempt: retried before content, resumed after it.
/// </summary>
public sealed class AnswerFailed(ApiError error) : AnswerEvent
{
    public ApiError Error { get; } = error;
}
