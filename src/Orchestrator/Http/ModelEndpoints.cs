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

    /// <summary>Model ids in config order, OpenAI's list shape; <c>created</c> is when this process started.</summary>
    private static ModelList List(OrchestratorSettings settings) => new()
    {
        Data = [.. settings.Models.Select(m => new ModelInfo { Id = m.Id, Created = Started })],
    };

    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
