using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Telemetry;

namespace Orchestrator.Telemetry;

/// <summary>
/// Metrics, traces and probes. The engine instruments itself with System.Diagnostics (<see cref="OrchestratorMetrics"/>,
/// <see cref="OrchestratorTracing"/>); the OpenTelemetry SDK listens here and exports: Prometheus text at
/// <c>GET /metrics</c>, spans over OTLP when <c>telemetry.otlp-endpoint</c> is set. <c>/healthz</c> and <c>/readyz</c>
/// are ASP.NET Core health checks: a check tagged <see cref="ReadyTag"/> decides readiness.
/// </summary>
public static class TelemetryHosting
{
    /// <summary>
    /// Readiness checks carry this tag: <c>services.AddHealthChecks().AddCheck&lt;T&gt;("name", tags: [ReadyTag])</c>
    /// adds one (/readyz is 503 while any is unhealthy, and says why).
    /// </summary>
    public const string ReadyTag = "ready";

    public static IServiceCollection AddOrchestratorTelemetry(this IServiceCollection services, TelemetrySettings telemetry)
    {
        services.AddSingleton<EdgeTelemetry>();
        services.AddHealthChecks().AddCheck<EngineReadyCheck>("engine", tags: [ReadyTag]).AddCheck<LedgerReadyCheck>("ledger", tags: [ReadyTag]);
        if (!telemetry.Metrics && telemetry.OtlpEndpoint is null) return services;

        var otel = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(telemetry.ServiceName));
        if (telemetry.Metrics)
            otel.WithMetrics(metrics => metrics.AddMeter(OrchestratorMetrics.MeterName).AddPrometheusExporter());
        if (telemetry.OtlpEndpoint is { } endpoint)
        {
            otel.WithTracing(tracing => tracing
                // ASP.NET Core's span is the HTTP server span (it reads the client's traceparent), ours go under it,
                // and the HTTP client's span of each upstream call under the attempt's (its id is the traceparent sent).
                .AddSource("Microsoft.AspNetCore", OrchestratorTracing.SourceName, "System.Net.Http")
                .AddOtlpExporter(otlp =>
                {
                    otlp.Protocol = telemetry.OtlpProtocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                    // Set in code, the endpoint is used as it is: over HTTP the signal's path is ours to add.
                    otlp.Endpoint = telemetry.OtlpProtocol == OtlpProtocol.HttpProtobuf
                        ? new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/traces")
                        : endpoint;
                }));
        }
        return services;
    }

    /// <summary>First in the pipeline: every response gets its x-request-id, every log line its RequestId.</summary>
    public static IApplicationBuilder UseEdgeTelemetry(this IApplicationBuilder app)
    {
        var telemetry = app.ApplicationServices.GetRequiredService<EdgeTelemetry>();
        return app.Use((http, next) => telemetry.InvokeAsync(http, next));
    }

    /// <summary>
    /// <c>/healthz</c> (the process answers: no check runs), <c>/readyz</c> (every readiness check), <c>/metrics</c>:
    /// unauthenticated, outside the concurrency limit (an overloaded relay is alive), never touching an upstream.
    /// </summary>
    public static IEndpointRouteBuilder MapTelemetryEndpoints(this IEndpointRouteBuilder endpoints, TelemetrySettings telemetry)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).DisableRateLimiting();
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync }).DisableRateLimiting();
        if (telemetry.Metrics) endpoints.MapPrometheusScrapingEndpoint("/metrics").DisableRateLimiting();
        return endpoints;
    }

    /// <summary>The probe and scrape paths, which a monitor calls every few seconds.</summary>
    public static bool IsProbe(PathString path) =>
        path.Equals("/healthz") || path.Equals("/readyz") || path.Equals("/metrics");

    /// <summary><c>{"status":"unhealthy","checks":{"engine":"the actor system has stopped"}}</c>: small, and says why.</summary>
    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", Status(report.Status));
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries) json.WriteString(name, entry.Description ?? Status(entry.Status));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return http.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }

    private static string Status(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
