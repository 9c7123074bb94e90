using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Api;

namespace Orchestrator.Http;

public static class ModelEndpoints
{
    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/models", (OrchestratorSettings settings) => Results.Json(List(settings), WireJson.Default.ModelList))
            .AddEndpointFilter<ClientKeyFilter>();
        return endpoints;
    }

    /// <summary>
    /// Model ids in config order, OpenAI's list shape; <c>created</c> is when this process started. Each model also
    /// says what it costs (<c>pricing</c>: its own price or the catalogue's; absent for a model with no price anywhere,
    /// which is served at cost 0) and how many tokens it takes (<c>context_window</c>, absent when unknown).
    /// </summary>
    private static ModelList List(OrchestratorSettings settings) => new()
    {
        Data = [.. settings.Models.Select(m => new ModelInfo
        {
            Id = m.Id,
            Created = Started,
            Pricing = m.PriceSource == PriceSource.None ? null : new ModelPricing
            {
                Input = Plain(m.Price.Input),
                Output = Plain(m.Price.Output),
                CachedInput = Plain(m.Price.CachedInput),
            },
            ContextWindow = m.ContextWindow,
        })],
    };

    /// <summary>The same value without trailing zeros (2.00 -> 2), so the JSON reads as the price was meant.</summary>
    private static decimal Plain(decimal value) => value / 1.0000000000000000000000000000m;

    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
