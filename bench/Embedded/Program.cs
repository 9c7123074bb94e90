using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Actors.Embedding;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Settings;
using Orchestrator.Bench.Embedded;
using Orchestrator.Bench.LoadGen;

// The engine embedded in-process (services.AddOrchestrator, OrchestratorClient.StreamAsync) against the mock upstream,
// next to the same process calling the mock directly. bench/run.sh runs it after the load generator; see bench/README.md.
//   Embedded --mock http://127.0.0.1:18081 --config bench/orchestrator-bench.conf [--smoke] [--out FILE.md]
string? mock = null, configFile = null, outFile = null;
var smoke = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--mock" when i + 1 < args.Length: mock = args[++i]; break;
        case "--config" when i + 1 < args.Length: configFile = args[++i]; break;
        case "--out" when i + 1 < args.Length: outFile = args[++i]; break;
        case "--smoke": smoke = true; break;
        default: mock = null; i = args.Length; break;
    }
}
if (mock is null || configFile is null)
{
    Console.Error.WriteLine("usage: Embedded --mock URL --config orchestrator-bench.conf [--smoke] [--out FILE.md]");
    return 2;
}

OrchestratorSettings settings;
Akka.Configuration.Config config;
try
{
    config = HoconLoader.LoadFiles(Path.Combine(AppContext.BaseDirectory, "hocon/orchestrator.conf"), configFile);
    settings = OrchestratorSettings.FromConfig(config);
}
catch (InvalidConfigException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddOrchestrator(config, settings);
using var host = builder.Build();
await host.StartAsync();
try
{
    var profile = smoke ? Profile.Smoke(0, 0) : Profile.Full(0, 0);
    using var bench = new EmbeddedBench(profile, new Uri(mock.TrimEnd('/') + "/"), host.Services.GetRequiredService<OrchestratorClient>(), Console.Out);
    await bench.RunAsync();

    var markdown = EmbeddedBench.Header(profile) + Environment.NewLine + Environment.NewLine + EmbeddedBench.Markdown(bench.Rows);
    Console.WriteLine();
    Console.WriteLine(markdown);
    if (outFile is not null)
    {
        // Appended: run.sh gives the file the load generator just wrote, so the results file holds both reports.
        await File.AppendAllTextAsync(outFile, Environment.NewLine + markdown);
        Console.WriteLine($"appended to {outFile}");
    }

    var dead = bench.Rows.Where(r => r.Successes == 0).Select(r => $"{r.Scenario} / {r.Target.Name}").ToList();
    if (dead.Count > 0)
    {
        Console.Error.WriteLine("bench harness failed: no successful stream in: " + string.Join("; ", dead));
        return 1;
    }
    var errors = bench.Rows.Sum(r => r.Errors);
    if (errors > 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: {errors} streams failed or were not exact (see the table)"));
    return 0;
}
catch (HarnessException e)
{
    Console.Error.WriteLine($"bench harness failed: {e.Message}");
    return 1;
}
finally
{
    await host.StopAsync();
}
