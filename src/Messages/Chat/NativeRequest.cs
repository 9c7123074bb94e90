using System.Text.Json;

namespace Orchestrator.Messages.Chat;

/// <summary>
/// The caller's request as it came, in a dialect other than OpenAI chat. An upstream that speaks the same dialect
/// sends it on with only <c>model</c> (and <c>stream</c>) rewritten, so nothing the translation cannot express is
/// lost (Anthropic <c>cache_control</c>, thinking blocks); any other upstream reads <see cref="ChatRequest.Body"/>.
/// </summary>
public sealed record NativeRequest(Dialect Dialect, JsonElement Body)
{
    /// <summary>
    /// The dialect's own request headers as the client sent them (<c>anthropic-beta</c>, <c>anthropic-version</c>,
    /// <c>OpenAI-Beta</c>): an upstream that takes <see cref="Body"/> gets them too. Never a key.
    /// </summary>
    public System.Collections.Immutable.ImmutableArray<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>
    /// Set when the request means something only an upstream of <see cref="Dialect"/> can do (state it keeps, such as
    /// a <c>previous_response_id</c>): routing skips every other provider, and when none is left the caller gets this.
    /// </summary>
    public ApiError? OnlyNative { get; init; }
}
