namespace Orchestrator.Messages.Upstream;

/// <summary>Why an upstream attempt failed, classified once (see FailureClassifier) so every decision reads the class.</summary>
public enum FailureKind
{
    /// <summary>Connect refused or reset, DNS, TLS: the request may not have reached the provider.</summary>
    Transport,
    /// <summary>No headers or no event in time.</summary>
    Timeout,
    RateLimited,
    ServerError,
    /// <summary>401/403: the provider refused our key, a configuration problem on our side.</summary>
    Unauthorized,
    /// <summary>404: the provider does not know the route's model.</summary>
    ModelNotFound,
    /// <summary>400/413/422: the request itself is at fault; every provider would refuse it.</summary>
    CallerFault,
    /// <summary>The provider's answer broke the protocol (not JSON, an error object mid-stream).</summary>
    Protocol,
    /// <summary>The stream ended (EOF, reset, idle) before a finish_reason: the answer is cut short.</summary>
    Truncated,
    /// <summary>Routing skipped the provider: its circuit is open or a 429 parked it. Not a new failure of its own.</summary>
    Unavailable,
    /// <summary>A bug of ours; never the provider's fault.</summary>
    Internal,
}

/// <summary>
/// One failed attempt. <paramref name="Message"/> is safe to show a client: it never holds a key or an upstream
/// body, only (for caller faults) the provider's own error message.
/// </summary>
public sealed record UpstreamFailure(FailureKind Kind, int? Status, string Message, string? Code = null, string? Param = null)
{
    /// <summary>A caller fault is returned as it is instead of being tried elsewhere.</summary>
    public bool IsCallerFault => Kind == FailureKind.CallerFault;

    /// <summary>Worth another attempt on the same route after a backoff (the provider may answer next time).</summary>
    public bool IsRetryable => Kind is FailureKind.Transport or FailureKind.RateLimited or FailureKind.ServerError or FailureKind.Protocol or FailureKind.Truncated;

    /// <summary>Counts against the provider's health and circuit breaker (a caller's fault or our own bug does not).</summary>
    public bool IsProviderFault => Kind is not (FailureKind.CallerFault or FailureKind.ModelNotFound or FailureKind.Unavailable or FailureKind.Internal);

    /// <summary>How long the provider asked us to wait (Retry-After, retry-after-ms), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
