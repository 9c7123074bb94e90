using Microsoft.AspNetCore.Builder;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Http;

public static class SimulatorFaultHeader
{
    /// <summary>
    /// <c>orchestrator.simulator.allow-fault-header = off</c> (the default): the <c>x-simulator-fault</c> header is
    /// dropped before any endpoint reads it, so a request that sends one is served as if it had not (no error), and no
    /// client can make the service fail or stall at will. On: nothing is added to the request path.
    /// </summary>
    public static IApplicationBuilder UseSimulatorFaultHeader(this IApplicationBuilder app, SimulatorClientSettings simulator)
    {
        if (simulator.AllowFaultHeader) return app;
        return app.Use((http, next) =>
        {
            http.Request.Headers.Remove(ChatRequestReader.FaultHeader);
            return next(http);
        });
    }
}
