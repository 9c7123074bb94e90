using System.Runtime;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Akka.Actor;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Orchestrator.Bench.Soak;

/// <summary>
/// The relay under soak, in its own process: <see cref="OrchestratorApp.Build"/> (Program.cs's wiring, real Kestrel)
/// plus one endpoint for the soak, <c>GET /soak/stats</c>: the number of live actors (a walk of the actor tree from
/// the root guardian, grouped by path with numbers folded, so a leak names its kind), managed heap and VmRSS.
/// <c>?gc=1</c> first runs a full, compacting collection, so what remains is what is still referenced.
/// Prints <c>listening URL</c> on stdout once Kestrel is bound (the soak starts it on port 0).
/// </summary>
public static partial class RelayHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var app = OrchestratorApp.Build(args);
        var system = app.Services.GetRequiredService<ActorSystem>();
        app.MapGet("/soak/stats", (HttpContext http) =>
        {
            if (http.Request.Query["gc"] == "1")
            {
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            var groups = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var total = Walk(((ExtendedActorSystem)system).Provider.RootGuardian, groups);
            var json = new JsonObject
            {
                ["actors"] = total,
                ["managed_bytes"] = GC.GetTotalMemory(forceFullCollection: false),
                ["rss_kb"] = StatusKb("VmRSS:"),
                ["by_path"] = new JsonObject([.. groups.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Value))]),
            };
            return Results.Text(json.ToJsonString(), "application/json");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.WriteLine("listening " + address);
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static int Walk(IActorRef actor, SortedDictionary<string, int> groups)
    {
        var key = Numbers().Replace(actor.Path.ToStringWithoutAddress(), "#");
        groups[key] = groups.GetValueOrDefault(key) + 1;
        var count = 1;
        if (actor is ActorRefWithCell withCell)
            foreach (var child in withCell.Children) count += Walk(child, groups);
        return count;
    }

    private static long StatusKb(string key) => long.Parse(File.ReadLines("/proc/self/status")
        .First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim().Split(' ')[0]);

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Numbers();
}
