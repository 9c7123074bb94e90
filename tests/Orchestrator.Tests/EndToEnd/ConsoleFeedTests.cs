using System.Net;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The console's page and its feed over a real socket, without a browser (ConsoleBrowserTests has one).</summary>
public sealed class ConsoleFeedTests
{
    private const string Config = """
        orchestrator {
          logging { level = Warning, requests = off }
          auth.keys = ["sk-test-client"]
          admin.keys = ["adm-feed-test"]
          providers { feed-sim { kind = simulator, token-delay = 0ms } }
          models { feed-sim { routes = [ { provider = feed-sim } ] } }
        }
        """;

    [Theory]
    [InlineData("/")]
    [InlineData("/console")]
    public async Task Console_Page_ServedWithItsAssetsAndAStrictPolicy(string path)
    {
        await using var relay = await RelayHost.StartAsync(Config);
        using var http = relay.Client(key: null);
        using var page = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<label for=\"admin-key\">Admin key</label>", html);
        foreach (var asset in new[] { "/console/console.js", "/console/console.css" })
        {
            Assert.Contains($"\"{asset}\"", html);
            using var response = await http.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task ConsoleFeed_NoAdminKey_Refused()
    {
        await using var relay = await RelayHost.StartAsync(Config);
        using var anonymous = relay.Client(key: null);
        using var client = relay.Client();   // a client key is not an admin key
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/console/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/admin/console/events")).StatusCode);
    }

    [Fact]
    public async Task ConsoleFeed_AdminKey_StreamsSnapshotsEverySecond()
    {
        await using var relay = await RelayHost.StartAsync(Config);
        using var admin = relay.Client("adm-feed-test");
        using var response = await admin.GetAsync("/admin/console/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        var snapshots = new List<JsonElement>();
        while (snapshots.Count < 2)
        {
            Assert.Equal("event: snapshot", await reader.ReadLineAsync(timeout.Token));
            var data = await reader.ReadLineAsync(timeout.Token);
            Assert.StartsWith("data: {", data);
            Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
            snapshots.Add(JsonDocument.Parse(data!["data: ".Length..]).RootElement.Clone());
        }
        var first = snapshots[0];
        var provider = Assert.Single(first.GetProperty("providers").EnumerateArray(), p => p.GetProperty("name").GetString() == "feed-sim");
        Assert.Equal("healthy", provider.GetProperty("state").GetString());
        Assert.Equal("closed", provider.GetProperty("breaker").GetString());
        Assert.Equal(0, first.GetProperty("counters").GetProperty("open_streams").GetInt32());
        Assert.Equal(59, first.GetProperty("series").GetProperty("requests").GetArrayLength());
        Assert.Equal(0, first.GetProperty("keys").GetArrayLength());
        var apart = DateTimeOffset.Parse(snapshots[1].GetProperty("at").GetString()!) - DateTimeOffset.Parse(first.GetProperty("at").GetString()!);
        Assert.InRange(apart, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
    }
}
