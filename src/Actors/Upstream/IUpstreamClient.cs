using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// Talks to one provider. Owned by that provider's <see cref="ProviderSupervisor"/> (which creates and disposes it)
/// and called by its request actors; implementations are thread-safe and never retry on their own.
/// </summary>
public interface IUpstreamClient : IDisposable
{
    /// <summary>
    /// Sends the request. Completes when the response headers are in: with a stream still to be read, a whole
    /// completion, or the provider's refusal. Throws for transport failures (connect refused, reset, timeout).
    /// </summary>
    Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken);

    /// <summary>A cheap request that proves the provider answers (the health check); throws when it does not within <paramref name="timeout"/>.</summary>
    Task ProbeAsync(TimeSpan timeout);

    /// <summary>Sockets open and read buffers held, for the provider's status.</summary>
    UpstreamMeters Meters { get; }
}

/// <summary>What the request actor asks of a client: this request, under this model name.</summary>
public sealed record UpstreamCall(string RequestId, ChatRequest Request, string UpstreamModel)
{
    /// <summary>Which attempt of the request this is (0 = the first), counted over every route and retry.</summary>
    public int Attempt { get; init; }

    /// <summary>
    /// Sent as a chat completion whatever the provider could take natively (a provider with <c>responses = on</c> that
    /// turned out to serve no <c>/responses</c>): decided once per call, so every step of it reads the same.
    /// </summary>
    public bool AsChat { get; init; }

    /// <summary>The model's <c>max-tokens-default</c>, for upstreams that require a limit when the caller set none.</summary>
    public int MaxTokensDefault { get; init; } = 4096;
}

public abstract record UpstreamResponse;

/// <summary>
/// The provider is streaming its <c>text/event-stream</c> <paramref name="Body"/>: the answer stream reads it and
/// closes it when done; whoever holds it when it is never read disposes it.
/// </summary>
public sealed record UpstreamStream(StreamedBody Body) : UpstreamResponse;

/// <summary>A whole answer: the <c>chat.completion</c> JSON as the provider sent it.</summary>
public sealed record UpstreamCompletion(ReadOnlyMemory<byte> Body) : UpstreamResponse
{
    /// <summary>The provider's own answer when it answered a native request in its dialect (<see cref="Body"/> is then its chat form).</summary>
    public ReadOnlyMemory<byte>? Native { get; init; }
}

/// <summary>The provider answered with an error status.</summary>
public sealed record UpstreamRefusal(UpstreamFailure Failure) : UpstreamResponse;
