using System.Text.Json;

namespace Orchestrator.Messages.Chat;

/// <summary>
/// A validated chat completion request. <see cref="Body"/> is the caller's JSON object as it came in, kept whole
/// so that fields we do not model reach OpenAI-kind upstreams untouched; the other properties are read from it
/// once at the edge.
/// </summary>
public sealed record ChatRequest(string Model, bool Stream, bool IncludeUsage, int? MaxTokens, JsonElement Body)
{
    /// <summary>
    /// A fault plan for the built-in simulator provider (the <c>x-simulator-fault</c> request header), already
    /// validated at the edge; other provider kinds ignore it and it is never sent upstream.
    /// </summary>
    public string? SimulatorFault { get; init; }
    public int Choices { get; init; } = 1;

    /// <summary>
    /// The relay, not the client, wants the usage (to bill the request): <see cref="IncludeUsage"/> is on for the
    /// upstream, and its usage chunk is read but not passed on.
    /// </summary>
    public bool UsageForBilling { get; init; }   // the caller's n (1-128, 1 when absent), checked at the edge

    /// <summary>
    /// The caller's own request when it came through a front other than chat completions (<see cref="Body"/> is then
    /// its translation). Cleared whenever the engine changes the body (a resume), so it never disagrees with it.
    /// </summary>
    public NativeRequest? Native { get; init; }

    /// <summary>
    /// What the front's translation into <see cref="Body"/> could not carry (<c>client_metadata</c>,
    /// <c>tools[7]:web_search</c>): named to the client in <c>x-orchestrator-dropped</c> when the answer came from an
    /// upstream that read the translation, never from one that took <see cref="Native"/> as it came.
    /// </summary>
    public System.Collections.Immutable.ImmutableArray<string> Dropped { get; init; } = [];
}
