namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// Where requests go. <paramref name="Pid"/> is the process whose CPU and memory the row reports (the proxy; for the
/// direct target, the mock itself); <paramref name="ApiKey"/> is sent as <c>Authorization: Bearer</c> when set
/// (as <c>x-goog-api-key</c> through the Gemini front).
/// </summary>
public sealed record Target(string Name, Uri BaseUrl, string? ApiKey, int? Pid)
{
    public Uri ChatUrl { get; } = new(BaseUrl, "v1/chat/completions");

    public Uri MessagesUrl { get; } = new(BaseUrl, "v1/messages");

    public Uri ModelsUrl { get; } = new(BaseUrl, "v1/models");

    /// <summary>Where <paramref name="shape"/> is sent (the Gemini front names the model in the path).</summary>
    public Uri UrlFor(RequestShape shape) => shape.Via switch
    {
        Front.Chat => ChatUrl,
        Front.Messages => MessagesUrl,
        _ => new Uri(BaseUrl, shape.Path),
    };
}
