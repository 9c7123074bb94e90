using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The published sk-local-1 is accepted only while the service listens on loopback; elsewhere it refuses to start.</summary>
public sealed class ListenAddressTests
{
    private static async Task<string> ConfigFileAsync(string text)
    {
        var file = Path.Combine(Path.GetTempPath(), $"orchestrator-listen-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, text);
        return file;
    }

    private static async Task<HttpStatusCode> ModelsStatusAsync(WebApplication app, string key)
    {
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        // Whatever the bound address, this machine reaches it on loopback.
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{address.Port}"), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        using var response = await client.GetAsync("/v1/models");
        return response.StatusCode;
    }

    private static async Task StopAsync(WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://[::]:0")]
    [InlineData("http://*:0")]
    [InlineData("http://127.0.0.1:0;http://+:0")]
    public void Start_WellKnownKeyOnANonLoopbackAddress_IsRefusedSayingHowToCreateAKey(string urls)
    {
        var ex = Assert.Throws<InvalidConfigException>(() => OrchestratorApp.Build(["--urls", urls]));   // the defaults: sk-local-1
        Assert.Equal("orchestrator.auth.keys", ex.Key);
        Assert.Contains("sk-local-1", ex.Message);
        Assert.Contains(urls.Split(';')[^1], ex.Message);
        Assert.Contains("dotnet run --project src/Orchestrator -- keys create --name NAME --credit 5", ex.Message);
        Assert.Contains("POST /admin/keys", ex.Message);
        Assert.Contains("remove sk-local-1 from orchestrator.auth.keys", ex.Message);
    }

    [Fact]
    public async Task Start_ListenKeyOnANonLoopbackAddress_IsRefusedToo()
    {
        var file = await ConfigFileAsync("""orchestrator.http.listen = "http://0.0.0.0:0" """);
        try
        {
            var ex = Assert.Throws<InvalidConfigException>(() => OrchestratorApp.Build(["--config", file]));
            Assert.Contains("http://0.0.0.0:0", ex.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Start_WellKnownKeyOnLoopback_ServesIt()
    {
        // The defaults but the ledger: its own, in memory (tests run in parallel; one process runs a ledger at a time).
        var file = await ConfigFileAsync("orchestrator.ledger.storage = memory");
        var app = OrchestratorApp.Build(["--urls", "http://127.0.0.1:0", "--config", file]);
        try
        {
            Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(app, "sk-local-1"));
        }
        finally
        {
            await StopAsync(app);
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Start_RealKeysOnANonLoopbackAddress_Serves()
    {
        var file = await ConfigFileAsync("""orchestrator { logging.requests = off, auth.keys = ["sk-real-key"], ledger.storage = memory }""");
        var app = OrchestratorApp.Build(["--urls", "http://0.0.0.0:0", "--config", file]);
        try
        {
            Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(app, "sk-real-key"));
            Assert.StartsWith("http://0.0.0.0:", app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }
        finally
        {
            await StopAsync(app);
            File.Delete(file);
        }
    }

    /// <summary>The real binary: Program prints the refusal and exits with 2 before binding anything.</summary>
    [Fact]
    public async Task Process_WellKnownKeyOnANonLoopbackAddress_ExitsWith2()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Orchestrator.dll"), "--urls", "http://0.0.0.0:0" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        Assert.Equal(2, process.ExitCode);
        var message = await stderr;
        Assert.Contains("Invalid configuration: orchestrator.auth.keys", message);
        Assert.Contains("keys create --name NAME --credit 5", message);
        Assert.DoesNotContain("Now listening", await stdout);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.2:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("https://LOCALHOST:8443", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://unix:/tmp/orchestrator.sock", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://192.168.1.10:8080", false)]
    [InlineData("http://relay.example.com:8080", false)]
    [InlineData("not a url", false)]
    public void IsLoopback_Address_IsOnlyTrueForThisMachine(string url, bool loopback) =>
        Assert.Equal(loopback, ListenAddresses.IsLoopback(url));

    [Fact]
    public void Resolve_KestrelEndpointsWinOverUrlsWhichWinOverListen()
    {
        var listen = new Uri("http://127.0.0.1:8080");
        IConfiguration Config(params (string Key, string Value)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

        Assert.Equal(["http://127.0.0.1:8080"], ListenAddresses.Resolve(Config(), listen));
        Assert.Equal(["http://0.0.0.0:80", "http://localhost:81"], ListenAddresses.Resolve(Config(("urls", "http://0.0.0.0:80; http://localhost:81")), listen));
        Assert.Equal(["http://*:9000"], ListenAddresses.Resolve(Config(("urls", "http://127.0.0.1:1"), ("Kestrel:Endpoints:Web:Url", "http://*:9000")), listen));
    }
}
