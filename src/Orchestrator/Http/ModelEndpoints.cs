using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Front;
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
        // Ids may hold '/' ("meta-llama/Llama-3.3-70B"): the rest of the path is the id.
        endpoints.MapGet("/v1/models/{**id}", RetrieveAsync).AddEndpointFilter<ClientKeyFilter>();
        return endpoints;
    }

    private static async Task<IResult> ListAsync(HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger) =>
        Results.Json(Visible(settings, await AllowedAsync(http, ledger)), WireJson.Default.ModelList);

    /// <summary>OpenAI's "retrieve model": one model of the list, or the 404 an unknown model gets in a chat request.</summary>
    private static async Task<IResult> RetrieveAsync(string id, HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var allowed = await AllowedAsync(http, ledger);
        return Visible(id, settings, allowed) is { } model
            ? Results.Json(Info(model), WireJson.Default.ModelInfo)
            : OpenAiErrors.Result(ModelCatalog.NotFound(id, ModelCatalog.Closest(id, Visible(settings, allowed).Data.Select(m => m.Id))));
    }

    /// <summary>A ledger key with an allow-list sees only its models: the others do not exist for it (they answer 404 too).</summary>
    private static ModelList Visible(OrchestratorSettings settings, IReadOnlyCollection<string>? allowed)
    {
        var list = List(settings);
        return allowed is null ? list : new ModelList { Data = [.. list.Data.Where(m => allowed.Contains(m.Id))] };
    }

    /// <summary>
    /// One model as the caller (with its allow-list) may see it: a listed id, or one a pattern serves without the
    /// catalogue listing it (a chat request for it works all the same); null when it does not exist for the caller.
    /// </summary>
    public static ModelSettings? Visible(string id, OrchestratorSettings settings, IReadOnlyCollection<string>? allowed) =>
        id.Length <= ChatRequestReader.MaxModelLength && (allowed is null || allowed.Contains(id)) && settings.Resolver.TryResolve(id, out var model)
            ? model
            : null;

    /// <summary>The caller's allow-list: null for a key without one (or a config key), every model then being its.</summary>
    public static async Task<IReadOnlyCollection<string>?> AllowedAsync(HttpContext http, IRequiredActor<LedgerActor> ledger) =>
        ClientKeyFilter.KeyId(http) is { } keyId
        && await ledger.ActorRef.Ask<object>(new GetKey(keyId), TimeSpan.FromSeconds(5), http.RequestAborted) is KeyView { Models: { } allowed }
            ? allowed
            : null;

    /// <summary>
    /// Concrete model ids (<see cref="ModelResolver.Listed"/>: configured ones in config order, then the catalogue's
    /// ids a pattern serves; never a pattern), OpenAI's list shape; <c>created</c> is when this process started. Each
    /// model also says what it costs (<c>pricing</c>: its own price or the catalogue's; absent for a model with no price
    /// anywhere) and how many tokens it takes (<c>context_window</c>, absent when unknown).
    /// </summary>
    private static ModelList List(OrchestratorSettings settings) => new() { Data = [.. settings.Resolver.Listed.Select(Info)] };

    private static ModelInfo Info(ModelSettings m) => new()
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
    };

    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
