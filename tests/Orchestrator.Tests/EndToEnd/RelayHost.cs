using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The real Orchestrator host (Program's wiring) on Kestrel at 127.0.0.1 on a free port.</summary>
public sealed class RelayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _configFile;

    private RelayHost(WebApplication app, string? configFile, Uri baseUrl)
    {
        _app = app;
        _configFile = configFile;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="configText">HOCON layered over the defaults, or null to run on the defaults alone.</param>
    /// <param name="configureServices">Services added to the host's, e.g. a Serilog <c>ILogEventSink</c> to read the log.</param>
    public static async Task<RelayHost> StartAsync(string? configText, Action<IServiceCollection>? configureServices = null)
    {
        var args = new List<string> { "--urls", "http://127.0.0.1:0" };
        // Tests share a working directory: the ledger is in memory unless the test's own config says where.
        var file = Path.Combine(Path.GetTempPath(), $"orchestrator-test-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, "orchestrator.ledger.storage = memory\n" + configText);
        args.AddRange(["--config", file]);
        var app = OrchestratorApp.Build([.. args], configureServices: configureServices);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RelayHost(app, file, new Uri(address));
    }

    public HttpClient Client(string? key = "sk-test-client")
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_configFile is not null) File.Delete(_configFile);
    }
}
