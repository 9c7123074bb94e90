using Orchestrator.Actors.Settings;

namespace Orchestrator;

/// <summary>
/// A model with no price of its own and no catalogue entry is served at cost 0: said once at start-up, never silently.
/// Through this host's Serilog logger (an <c>ILoggerFactory</c> logger writes to the process-wide one).
/// </summary>
public sealed class UnpricedModelsWarning(OrchestratorSettings settings, Serilog.ILogger log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var prices = log.ForContext(Serilog.Core.Constants.SourceContextPropertyName, "Orchestrator.Prices");
        foreach (var model in settings.Models.Where(m => m.PriceSource == PriceSource.None && !m.IsPattern))
            prices.Warning("Model {Model} has no price: none in its config and no catalogue entry for it or its upstream model " +
                           "{UpstreamModel}; its requests cost 0. Set price {{ input, output }} in its block (0 for free)", model.Id, model.Routes[0].UpstreamModel);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
