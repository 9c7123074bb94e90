namespace Orchestrator.Messages.Chat;

/// <summary>
/// Asks the front to answer a chat request. The caller's key has already been checked at the edge;
/// <paramref name="Caller"/> names which configured key it was (never the key itself).
/// </summary>
public sealed record CreateChat(string RequestId, ChatRequest Request, string Caller)
{
    /// <summary>The ledger key the request is billed to (its id, never its secret); null for the config's own keys.</summary>
    public string? KeyId { get; init; }

    /// <summary>When the request arrived (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>; 0: when the front got it).</summary>
    public long ReceivedAt { get; init; }

    /// <summary>The caller's trace (its <c>traceparent</c>, or the edge's span for it); default when there is none.</summary>
    public System.Diagnostics.ActivityContext Trace { get; init; }

    /// <summary>
    /// Whether <see cref="Trace"/> goes on upstream as <c>traceparent</c>: when the client sent one or spans are
    /// recorded. Otherwise the trace exists only to tie this relay's log lines together, and nothing is sent.
    /// </summary>
    public bool PropagateTrace { get; init; }
}

/// <summary>The caller went away before the reply: stop whatever is still being tried upstream.</summary>
public sealed record CancelChat(string RequestId);
