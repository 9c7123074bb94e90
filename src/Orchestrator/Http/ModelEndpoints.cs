using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Http;

public static class ModelEndpoints
{
    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/models", ListAsync).AddEndpointFilter<ClientKeyFilter>();
        return endpoints;
    }

    /// <summary>A ledger key with an allow-list sees only its models: the others do not exist for it (they answer 404 too).</summary>
    private static async Task<IResult> ListAsync(HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var list = List(settings);
        if (ClientKeyFilter.KeyId(http) is { } keyId
            && await ledger.ActorRef.Ask<object>(new GetKey(keyId), TimeSpan.FromSeconds(5), http.RequestAborted) is KeyView { Models: { } allowed })
            list = new ModelList { Data = [.. list.Data.Where(m => allowed.Contains(m.Id))] };
        return Results.Json(list, WireJson.Default.ModelList);
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
                Input = AdminJson.Plain(m.Price.Input),
                Output = AdminJson.Plain(m.Price.Output),
                CachedInput = AdminJson.Plain(m.Price.CachedInput),
            },
            ContextWindow = m.ContextWindow,
        })],
    };

    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
