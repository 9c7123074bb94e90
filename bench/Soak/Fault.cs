namespace Orchestrator.Bench.Soak;

/// <summary>What the fault upstream does to one attempt (one HTTP request it receives).</summary>
public enum Fault
{
    /// <summary>The whole answer, paced like a model.</summary>
    None,

    /// <summary>The connection is reset after the request was read, before any response header.</summary>
    ResetBeforeHeaders,

    /// <summary>Headers and some of the answer, then the connection is reset.</summary>
    ResetAfterHeaders,

    /// <summary>No response at all until the relay gives up (its first-byte-timeout).</summary>
    StallBeforeHeaders,

    /// <summary>Headers and some of the answer, then silence until the relay gives up (its idle-timeout).</summary>
    StallMidStream,

    /// <summary>500, 502 or 503 with an error body.</summary>
    ServerError,

    /// <summary>429 with <c>Retry-After: 1</c>.</summary>
    RateLimited,

    /// <summary>The whole answer, each event written in small pieces with pauses (split inside UTF-8 characters too).</summary>
    SlowTrickle,

    /// <summary>The whole answer with events that are not JSON among the chunks (skipped by the relay).</summary>
    MalformedEvents,

    /// <summary>An <c>error</c> object in the middle of the stream.</summary>
    ErrorEvent,

    /// <summary>Some of the answer, then a clean end of the body with no finish_reason and no [DONE].</summary>
    EarlyEof,
}
