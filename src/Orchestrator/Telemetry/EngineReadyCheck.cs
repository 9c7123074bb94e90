using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Telemetry;

/// <summary>
/// <c>/readyz</c>: the actor system is up and the engine's actors are in place (the front, which is registered only
/// once every provider's actor exists). Reads what the host already holds: no message, no upstream call.
/// </summary>
public sealed class EngineReadyCheck(ActorRegistry registry, IServiceProvider services, OrchestratorSettings settings) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!registry.TryGet<HttpFrontActor>(out _))
            return Task.FromResult(HealthCheckResult.Unhealthy("the actor system is starting: the engine's actors are not in place yet"));
        // Asked for only once the front exists: before that, resolving the system would wait for it.
        if (services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted)
            return Task.FromResult(HealthCheckResult.Unhealthy("the actor system has stopped"));
        if (settings.Providers.Count == 0)
            return Task.FromResult(HealthCheckResult.Unhealthy("no provider is configured"));
        return Task.FromResult(HealthCheckResult.Healthy($"{settings.Providers.Count} providers, {settings.Models.Length} models"));
    }
}
