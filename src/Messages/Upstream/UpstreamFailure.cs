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
    /// <summary>The provider's answer broke the protocol (not JSON, cut short).</summary>
    Protocol,
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

    /// <summary>How long the provider asked us to wait (Retry-After, retry-after-ms), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
