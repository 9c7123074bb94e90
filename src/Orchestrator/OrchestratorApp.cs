using Akka.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Http;
using Orchestrator.Messages.Chat;
using Orchestrator.OperatorConsole;
using Orchestrator.Telemetry;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Orchestrator;

/// <summary>The host: Kestrel + Akka.Hosting + Serilog around the engine. Program.cs and the end-to-end tests both build it here.</summary>
public static class OrchestratorApp
{
    public const string DefaultConfigFile = "hocon/orchestrator.conf";

    /// <param name="args">As on the command line: <c>--config FILE.conf</c>, <c>--urls URL</c>, any ASP.NET Core switch.</param>
    /// <param name="clientFactory">Replaces how provider clients are made; tests only.</param>
    /// <param name="configureServices">Adds services after ours (a log sink to read); tests only.</param>
    public static WebApplication Build(string[] args, Func<ProviderSettings, IUpstreamClient>? clientFactory = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var config = HoconLoader.LoadFiles(Path.Combine(AppContext.BaseDirectory, DefaultConfigFile), builder.Configuration["config"]);
        var settings = OrchestratorSettings.FromConfig(config);
        var logging = LoggingSettings.FromConfig(config);
        var telemetry = TelemetrySettings.FromConfig(config);

        builder.Services.AddSerilog((services, serilog) => ConfigureSerilog(logging, serilog).ReadFrom.Services(services));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Set on purpose, not left to Kestrel's defaults: a client that trickles headers or a body cannot hold a socket.
            kestrel.Limits.MaxRequestBodySize = settings.Http.MaxRequestBytes;
            kestrel.Limits.RequestHeadersTimeout = settings.Http.RequestHeadersTimeout;
            kestrel.Limits.MaxRequestHeadersTotalSize = settings.Http.MaxRequestHeaderBytes;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(settings.Http.MinRequestBodyDataRate, settings.Http.MinRequestBodyDataRateGrace);
        });
        ListenAddresses.RefuseWellKnownKeyOffLoopback(settings.Auth, ListenAddresses.Resolve(builder.Configuration, settings.Http.Listen));
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(settings.Http.Listen.ToString().TrimEnd('/'));

        builder.Services.AddOrchestrator(config, settings, clientFactory);
        builder.Services.AddConcurrencyLimit(settings.Http);
        builder.Services.AddOrchestratorTelemetry(telemetry);
        builder.Services.AddSingleton<EdgeStreams>();
        builder.Services.AddSingleton<ClientKeys>();
        builder.Services.AddOperatorConsole();
        builder.Services.AddHostedService<EdgeStreamsStartup>();   // after the actor system's: the edge needs it
        builder.Services.AddHostedService<UnpricedModelsWarning>();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.Services.GetRequiredService<LedgerOwnership>();   // so disposing an app that never ran lets the ledger go
        app.UseEdgeTelemetry();   // first: every response, errors included, carries x-request-id
        // A bug of ours still answers in the contract's shape: no stack trace, no exception text.
        app.UseExceptionHandler(errors => errors.Run(http =>
            OpenAiErrors.WriteAsync(http.Response, ApiError.Internal("The server had an error while processing your request."))));
        if (logging.Requests) app.UseSerilogRequestLogging(requests =>
        {
            // A completion request's line also names its front, the model asked for and who answered (or why nobody did).
            requests.MessageTemplate = "HTTP {RequestMethod} {RequestPath}{QueryString} responded {StatusCode} in {Elapsed:0.0000} ms{Relay}";
            // This host's logger: the middleware's default is the process-wide static one, which the last host
            // built in the process owns (several hosts share a process in tests and when embedded).
            requests.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            // A probe or a scrape every few seconds is not news: logged at Verbose unless it failed.
            requests.GetLevel = (http, _, ex) => ex is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
                : TelemetryHosting.IsProbe(http.Request.Path) ? LogEventLevel.Verbose
                : LogEventLevel.Information;
            requests.EnrichDiagnosticContext = (diagnostics, http) =>
            {
                diagnostics.Set("QueryString", ApiKeyRedaction.Redact(http.Request.QueryString.Value ?? ""));
                diagnostics.Set("Relay", EdgeTelemetry.Summary(http));
            };
        });
        app.UseRateLimiter();   // after the request log, so refused requests are logged too
        app.UseSimulatorFaultHeader(settings.Simulator);
        app.UseWebSockets(new WebSocketOptions
        {
            KeepAliveInterval = settings.Realtime.HeartbeatInterval,
            KeepAliveTimeout = settings.Realtime.HeartbeatTimeout,
        });
        app.MapTelemetryEndpoints(telemetry);
        app.MapModelEndpoints();
        app.MapChatEndpoints();
        app.MapMessagesEndpoints();
        app.MapResponsesEndpoints();
        app.MapGeminiEndpoints();
        app.MapProviderEndpoints();
        app.MapRealtimeEndpoints();
        app.MapUsageEndpoints();
        app.MapConsoleEndpoints();
        app.MapAdminGroup().MapAdminKeyEndpoints().MapAdminUsageEndpoints().MapConsoleFeed();
        app.MapUnknownEndpoints();
        return app;
    }

    private static LoggerConfiguration ConfigureSerilog(LoggingSettings logging, LoggerConfiguration serilog)
    {
        serilog
            .MinimumLevel.Is(logging.Level)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Warning)   // a probe every few seconds
            .Enrich.FromLogContext()
            .Enrich.With<ApiKeyRedactionEnricher>();   // last, so it sees every property the others added
        // json: one compact JSON object per line (@t, @m, @l, @tr trace id, @sp span id, and every property,
        // RequestId included), for a log shipper; text: for a person at a terminal, one line per event (control
        // characters in values escaped, so no client or upstream can forge a line).
        return logging.Json
            ? serilog.WriteTo.Console(new RenderedCompactJsonFormatter())
            : serilog.WriteTo.Console(new SingleLineTextFormatter("[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}"));
    }

    /// <summary><c>orchestrator.logging</c>: read here because only the host logs through Serilog's configuration.</summary>
    private sealed record LoggingSettings(LogEventLevel Level, bool Requests, bool Json)
    {
        public static LoggingSettings FromConfig(Config config)
        {
            var level = config.GetString("orchestrator.logging.level");
            if (!Enum.TryParse<LogEventLevel>(level, ignoreCase: true, out var parsed))
                throw new InvalidConfigException("orchestrator.logging.level", $"'{level}' is not one of Verbose, Debug, Information, Warning, Error, Fatal");
            var json = config.GetString("orchestrator.logging.format") switch
            {
                "text" => false,
                "json" => true,
                var other => throw new InvalidConfigException("orchestrator.logging.format", $"'{other}' is not one of text, json"),
            };
            return new LoggingSettings(parsed, config.GetBoolean("orchestrator.logging.requests"), json);
        }
    }
}
