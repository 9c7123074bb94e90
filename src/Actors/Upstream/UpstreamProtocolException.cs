namespace Orchestrator.Actors.Upstream;

/// <summary>
/// The provider's answer broke the protocol (a chunk that is not JSON, an error event mid-stream). Its fault, unless
/// the error event said otherwise: <see cref="Status"/> is the HTTP status an error event carries (Anthropic's
/// <c>overloaded_error</c> is 529, Gemini's blocked prompt a 400), and then the failure is classified by it.
/// </summary>
public sealed class UpstreamProtocolException(string message) : Exception(message)
{
    public int? Status { get; init; }
    public string? Code { get; init; }
    /// <summary>The provider's words, passed on only when <see cref="Status"/> makes it the caller's fault.</summary>
    public string? ProviderMessage { get; init; }
}
