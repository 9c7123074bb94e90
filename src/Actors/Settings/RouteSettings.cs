using System.Collections.Immutable;

namespace Orchestrator.Actors.Settings;

/// <summary>How a broken stream is continued on a route; tried in the order a route lists them.</summary>
public enum ResumeStrategy
{
    /// <summary>The text already sent goes as a trailing assistant message, which the route continues.</summary>
    Prefill,
    /// <summary>The request is sent again and its output withheld until it has reproduced what the client has.</summary>
    Replay,
    /// <summary>The partial answer plus an instruction to continue; output may repeat or drift, so opt-in only.</summary>
    Continue,
}

/// <summary>
/// One route of a model: the provider to try, the model name it knows, and how a broken stream resumes on it.
/// <paramref name="LargeContext"/> marks a route that takes a request other routes refused as too long.
/// </summary>
public sealed record RouteSettings(string Provider, string UpstreamModel, bool Prefill, ImmutableArray<ResumeStrategy> ResumeStrategies, bool LargeContext)
{
    /// <summary>The route names no <c>model</c>: it sends the id the client asked for (a pattern's route resolves it per request).</summary>
    public bool ModelFromRequest { get; init; }

    /// <summary><c>demo = on</c>: used only while no other route of its model has a provider that can take requests.</summary>
    public bool Demo { get; init; }

    internal static RouteSettings From(string modelId, ConfigNode route, IReadOnlyDictionary<string, ProviderSettings> providers)
    {
        var provider = route.String("provider");
        if (!providers.ContainsKey(provider))
            throw new InvalidConfigException(route.KeyPath("provider"), $"unknown provider '{provider}' (configured: {string.Join(", ", providers.Keys.Order())})");
        var prefill = route.Bool("prefill");
        var model = route.OptionalString("model");
        if (model is not null && ModelPattern.IsPattern(model))
            throw new InvalidConfigException(route.KeyPath("model"), $"'{model}' is a pattern; a route's model is one id (omit it to send the id the client asked for)");
        return new RouteSettings(provider, model ?? modelId, prefill, Strategies(route, prefill), route.Bool("large-context"))
        {
            ModelFromRequest = model is null,
            Demo = route.Bool("demo"),
        };
    }

    /// <summary><c>auto</c>: prefill where the route declares it, then replay. <c>continue</c> only when named.</summary>
    private static ImmutableArray<ResumeStrategy> Strategies(ConfigNode route, bool prefill)
    {
        var raw = route.String("resume-strategy").Trim();
        if (raw.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return prefill ? [ResumeStrategy.Prefill, ResumeStrategy.Replay] : [ResumeStrategy.Replay];
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return [];
        var strategies = ImmutableArray.CreateBuilder<ResumeStrategy>();
        foreach (var name in raw.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var strategy = name.ToLowerInvariant() switch
            {
                "prefill" => ResumeStrategy.Prefill,
                "replay" => ResumeStrategy.Replay,
                "continue" => ResumeStrategy.Continue,
                _ => throw new InvalidConfigException(route.KeyPath("resume-strategy"), $"unknown strategy '{name}' (expected auto, off, or a list of prefill, replay, continue)"),
            };
            if (strategy == ResumeStrategy.Prefill && !prefill)
                throw new InvalidConfigException(route.KeyPath("resume-strategy"), "lists prefill but the route does not declare prefill = true");
            if (!strategies.Contains(strategy)) strategies.Add(strategy);
        }
        return strategies.ToImmutable();
    }
}
