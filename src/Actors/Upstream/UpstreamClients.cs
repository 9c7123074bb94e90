using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Simulator;

namespace Orchestrator.Actors.Upstream;

/// <summary>The client for each provider kind; a test or an embedder can pass its own factory instead.</summary>
public static class UpstreamClients
{
    public static IUpstreamClient Create(ProviderSettings settings) => settings.Kind switch
    {
        ProviderKind.OpenAi => new OpenAiUpstreamClient(settings),
        ProviderKind.Anthropic => new AnthropicUpstreamClient(settings),
        ProviderKind.Simulator => new SimulatorUpstreamClient(settings, TimeProvider.System),
        ProviderKind.WebSocket => new WebSocketUpstreamClient(settings),
        ProviderKind.Gemini => new GeminiUpstreamClient(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, "unknown provider kind"),
    };
}
