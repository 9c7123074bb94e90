using Orchestrator.Actors.Simulator;

namespace Orchestrator.Actors.Settings;

public enum ProviderKind
{
    /// <summary>Any OpenAI-compatible <c>/chat/completions</c> endpoint.</summary>
    OpenAi,
    /// <summary>The built-in simulator: plausible tokens, no network.</summary>
    Simulator,
    /// <summary>Another relay speaking Orchestrator's <c>/v1/realtime</c> protocol, over one persistent multiplexed socket.</summary>
    WebSocket,
    /// <summary>Anthropic's Messages API (<c>POST {base-url}/messages</c>).</summary>
    Anthropic,
    /// <summary>Google's Gemini API (<c>POST {base-url}/models/{model}:streamGenerateContent</c>).</summary>
    Gemini,
}

/// <summary>One configured provider (<c>orchestrator.providers.NAME</c>).</summary>
public sealed record ProviderSettings(
    string Name,
    ProviderKind Kind,
    Uri? BaseUrl,
    Secret? ApiKey,
    UpstreamSettings Upstream,
    SimulatorSettings Simulator)
{
    /// <summary>
    /// <c>responses = on</c> (openai kind): a Responses-front request goes to the provider's own
    /// <c>POST {base-url}/responses</c> as the client wrote it, and its events come back as the provider sent them.
    /// </summary>
    public bool Responses { get; init; }

    /// <summary>Why routing must skip this provider, or null when it can take requests.</summary>
    public string? UnavailableReason => IsHttp(Kind) && ApiKey is null ? "no api-key is configured" : null;

    /// <summary>
    /// Whether a request written in <paramref name="dialect"/> goes to this provider as the client wrote it
    /// (<see cref="Orchestrator.Messages.Chat.NativeRequest"/>) rather than as the engine's translation.
    /// </summary>
    public bool Speaks(Orchestrator.Messages.Chat.Dialect dialect) => (Kind, dialect) switch
    {
        (ProviderKind.Anthropic, Orchestrator.Messages.Chat.Dialect.AnthropicMessages) => true,
        (ProviderKind.Gemini, Orchestrator.Messages.Chat.Dialect.Gemini) => true,
        (ProviderKind.OpenAi or ProviderKind.Simulator or ProviderKind.WebSocket, Orchestrator.Messages.Chat.Dialect.OpenAiChat) => true,
        (ProviderKind.OpenAi, Orchestrator.Messages.Chat.Dialect.OpenAiResponses) => Responses,
        _ => false,
    };

    /// <summary>Whether this kind talks HTTP to a <c>base-url</c> (and so needs one).</summary>
    public static bool IsHttp(ProviderKind kind) => kind is ProviderKind.OpenAi or ProviderKind.Anthropic or ProviderKind.Gemini;

    internal static ProviderSettings From(string name, ConfigNode node, UpstreamSettings globalUpstream, ConfigNode globalUpstreamNode)
    {
        var kindText = node.String("kind");
        var kind = kindText switch
        {
            "openai" => ProviderKind.OpenAi,
            "simulator" => ProviderKind.Simulator,
            "websocket" => ProviderKind.WebSocket,
            "anthropic" => ProviderKind.Anthropic,
            "gemini" => ProviderKind.Gemini,
            _ => throw new InvalidConfigException(node.KeyPath("kind"), $"unknown kind '{kindText}' (expected openai, anthropic, gemini, simulator or websocket)"),
        };
        Uri? baseUrl = null;
        if (IsHttp(kind))
        {
            if (!node.Has("base-url")) throw new InvalidConfigException(node.KeyPath("base-url"), $"is required for kind {kindText}");
            baseUrl = HttpSettings.HttpUrl(node, "base-url");
        }
        if (kind == ProviderKind.WebSocket)
        {
            if (!node.Has("base-url")) throw new InvalidConfigException(node.KeyPath("base-url"), "is required for kind websocket (e.g. \"ws://relay:8080/v1/realtime\")");
            var raw = node.String("base-url");
            if (!Uri.TryCreate(raw, UriKind.Absolute, out baseUrl) || (baseUrl.Scheme != "ws" && baseUrl.Scheme != "wss"))
                throw new InvalidConfigException(node.KeyPath("base-url"), $"'{raw}' is not a ws:// or wss:// URL");
        }
        var key = node.OptionalString("api-key");
        var responses = node.Bool("responses");
        // Only an openai kind has a Responses API: another kind ignores the key (so `kind = anthropic` over the shipped
        // openai provider, whose responses is on, just works).
        responses &= kind == ProviderKind.OpenAi;
        var upstream = node.Has("upstream") ? UpstreamSettings.From(node.Child("upstream").WithFallback(globalUpstreamNode)) : globalUpstream;
        return new ProviderSettings(
            name,
            kind,
            baseUrl,
            string.IsNullOrEmpty(key) ? null : new Secret(key),
            upstream,
            new SimulatorSettings(node.Duration("token-delay", allowZero: true), node.Int("completion-tokens", 1, 100_000)) { Fault = Fault(node) })
        {
            Responses = responses,
        };
    }

    private static FaultPlan? Fault(ConfigNode node)
    {
        var text = node.OptionalString("fault");
        if (text is null) return null;
        return FaultPlan.TryParse(text, out var plan, out var error) ? plan : throw new InvalidConfigException(node.KeyPath("fault"), error);
    }
}

/// <summary>How the simulator provider answers.</summary>
public sealed record SimulatorSettings(TimeSpan TokenDelay, int CompletionTokens)
{
    /// <summary>The fault plan for requests that send no <c>x-simulator-fault</c> header; null for none.</summary>
    public FaultPlan? Fault { get; init; }
}
