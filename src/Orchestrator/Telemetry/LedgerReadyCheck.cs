using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Actors.Ledger;

namespace Orchestrator.Telemetry;

/// <summary>
/// <c>/readyz</c>: the ledger has read its keys from its database (until then, billed requests wait; if the database
/// cannot be read, this says why). One message to the ledger actor, answered from memory.
/// </summary>
public sealed class LedgerReadyCheck(ActorRegistry registry) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!registry.TryGet<LedgerActor>(out var ledger)) return HealthCheckResult.Unhealthy("the ledger is starting");
        try
        {
            var status = await ledger.Ask<LedgerStatus>(GetLedgerStatus.Instance, TimeSpan.FromSeconds(2), cancellationToken);
            return status.Ready ? HealthCheckResult.Healthy("the ledger is ready") : HealthCheckResult.Unhealthy(status.Reason);
        }
        catch (AskTimeoutException)
        {
            return HealthCheckResult.Unhealthy("the ledger did not answer within 2s");
        }
    }
}
