using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Front;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Http;

public static class ProviderEndpoints
{
    public static IEndpointRouteBuilder MapProviderEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Provider state and errors are the operator's business: an admin key, or public-status = on.
        endpoints.MapGet("/v1/providers", ListAsync).AddEndpointFilter<StatusAccessFilter>();
        return endpoints;
    }

    private static async Task<IResult> ListAsync(IRequiredActor<HttpFrontActor> front, HttpContext http)
    {
        var report = await front.ActorRef.Ask<ProviderStatusReport>(GetProviderStatus.Instance, TimeSpan.FromSeconds(5), http.RequestAborted);
        var data = new JsonArray([.. report.Providers.Select(Describe)]);
        return Results.Text(new JsonObject { ["object"] = "list", ["data"] = data }.ToJsonString(), "application/json");
    }

    private static JsonNode Describe(ProviderStatus p) => new JsonObject
    {
        ["name"] = p.Name,
        ["kind"] = p.Kind,
        ["state"] = p.State,
        ["until"] = Time(p.Until),
        ["consecutive_failures"] = p.ConsecutiveFailures,
        ["last_health_check"] = p.LastHealthCheck is { } h
            ? new JsonObject { ["at"] = Time(h.At), ["ok"] = h.Ok, ["latency_ms"] = h.LatencyMs, ["error"] = h.Error }
            : null,
        ["last_error"] = p.LastError,
        ["last_error_at"] = Time(p.LastErrorAt),
        ["open_connections"] = p.OpenConnections,
        ["in_flight_streams"] = p.InFlightStreams,
        ["counters"] = new JsonObject
        {
            ["requests"] = p.Counters.Requests,
            ["failures"] = p.Counters.Failures,
            ["retries"] = p.Counters.Retries,
            ["fallbacks"] = p.Counters.Fallbacks,
            ["rotations"] = p.Counters.Rotations,
            ["resumes"] = p.Counters.Resumes,
            ["skipped_events"] = p.Counters.SkippedEvents,
            ["panic_trials"] = p.Counters.PanicTrials,
        },
    };

    /// <summary>UTC, ISO 8601 with a Z (no "+00:00", which JSON writers escape).</summary>
    private static string? Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
