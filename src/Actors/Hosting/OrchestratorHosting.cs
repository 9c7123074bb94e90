using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Logger.Serilog;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Actors.Embedding;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;

using Orchestrator.Actors.Realtime;

namespace Orchestrator.Actors.Hosting;

/// <summary>Wires the engine into an Akka.Hosting actor system; used by the HTTP host and by embedders alike.</summary>
public static class OrchestratorHosting
{
    /// <summary>
    /// Starts a <see cref="ProviderSupervisor"/> per configured provider, the <see cref="HttpFrontActor"/> and the
    /// <see cref="RealtimeSupervisor"/>.
    /// <paramref name="clientFactory"/> replaces how provider clients are made (tests, custom transports).
    /// </summary>
    public static AkkaConfigurationBuilder WithOrchestrator(
        this AkkaConfigurationBuilder builder,
        OrchestratorSettings settings,
        Func<ProviderSettings, IUpstreamClient>? clientFactory = null,
        ILedgerStore? store = null)
    {
        var factory = clientFactory ?? UpstreamClients.Create;
        return builder.WithActors((system, registry) =>
        {
            var providers = settings.Providers.Values.ToImmutableDictionary(
                p => p.Name,
                p => system.ActorOf(ProviderSupervisor.Props(p, factory), "provider-" + Uri.EscapeDataString(p.Name)));
            var ledger = system.ActorOf(LedgerActor.Props(settings.Ledger.Options,
                store ?? LedgerStores.Create(settings.Ledger)), "ledger");
            registry.Register<LedgerActor>(ledger);
            var front = system.ActorOf(HttpFrontActor.Props(settings, providers, ledger), "front");
            registry.Register<HttpFrontActor>(front);
            registry.Register<RealtimeSupervisor>(system.ActorOf(RealtimeSupervisor.Props(settings.Realtime, front), "realtime"));
        });
    }

    /// <summary>
    /// The whole engine as a hosted service: the actor system (configured from <paramref name="config"/> with the
    /// ledger's persistence section over it, logging through Serilog), the actors, and <see cref="OrchestratorClient"/>
    /// for in-process calls. A SQLite ledger's file (and directory) is created here, before the journal needs it, and
    /// the ledger is taken for this process (<see cref="LedgerOwnership"/>; <see cref="LedgerInUseException"/> when
    /// another process runs it) until the actor system ends, or the service provider is disposed once it has handed
    /// the <see cref="LedgerOwnership"/> out (a host built and never started: <c>OrchestratorApp</c> resolves it at once).
    /// </summary>
    public static IServiceCollection AddOrchestrator(
        this IServiceCollection services,
        Config config,
        OrchestratorSettings settings,
        Func<ProviderSettings, IUpstreamClient>? clientFactory = null)
    {
        if (settings.Ledger.Storage == LedgerStorage.Sqlite) SqliteDatabase.Prepare(settings.Ledger.DatabaseFile);
        var ownership = LedgerOwnership.Take(settings.Ledger);
        var store = LedgerStores.Create(settings.Ledger);
        services.AddSingleton(_ => ownership);   // a factory: the container disposes it with itself, once resolved
        services.AddSingleton(settings);
        services.AddSingleton(store);   // the read side, for /admin/usage
        services.AddSingleton<OrchestratorClient>();
        return services.AddAkka("orchestrator", builder => builder
            .AddHocon(WithLedger(config, settings.Ledger), HoconAddMode.Prepend)
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                // Akka 1.5.74 formats named holes ({Provider}) itself (SemanticLogMessageFormatter is its default),
                // so Serilog's own formatter is no longer needed for message templates.
                loggers.AddLogger<SerilogLogger>();
            })
            .WithOrchestrator(settings, clientFactory, store)
            .WithActors((system, _) => system.RegisterOnTermination(ownership.Dispose)));
    }

    /// <summary>
    /// <paramref name="config"/> with the ledger's persistence section and serializer over it: what any actor system
    /// that hosts the ledger runs on (the service's, and the <c>keys</c> command's).
    /// </summary>
    public static Config WithLedger(Config config, LedgerSettings ledger) =>
        LedgerPersistence.Config(ledger).WithFallback(LedgerSerialization).WithFallback(config);

    /// <summary>The ledger's events and snapshots are written by <see cref="LedgerSerializer"/>, under stable names.</summary>
    private static readonly Config LedgerSerialization = ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers.orchestrator-ledger = "{{typeof(LedgerSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            "{{typeof(IKeyEvent).FullName}}, {{typeof(IKeyEvent).Assembly.GetName().Name}}" = orchestrator-ledger
          }
        }
        """);
}
