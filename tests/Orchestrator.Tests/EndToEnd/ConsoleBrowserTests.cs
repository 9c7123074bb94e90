using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// The operator console in a real browser: Debian's headless Chromium (<c>/usr/bin/chromium</c>, or
/// <c>ORCHESTRATOR_CHROMIUM</c>) driven by Playwright, against the real host on a loopback port. Skipped, with the
/// reason, where no Chromium is installed; nothing is downloaded. Every wait is Playwright's bounded expect.
/// </summary>
public sealed class ConsoleBrowserTests(ITestOutputHelper output)
{
    private const string AdminKey = "adm-console-test";

    // Model and provider names no other test uses: the console counts only this host's own.
    private const string Config = $$"""
        orchestrator {
          logging { level = Warning, requests = off }
          auth.keys = ["sk-test-client"]
          admin.keys = ["{{AdminKey}}"]
          simulator.allow-fault-header = on
          providers {
            console-slow { kind = simulator, token-delay = 100ms, completion-tokens = 80 }
            console-fast { kind = simulator, token-delay = 1ms, completion-tokens = 8 }
            console-flaky { kind = simulator, token-delay = 0ms, upstream { max-retries = 0, breaker { max-failures = 2, reset-timeout = 5m } } }
            anthropic { api-key = null }   # a shipped provider without a key, whatever the environment holds
          }
          models {
            console-slow { routes = [ { provider = console-slow } ] }
            console-fast { routes = [ { provider = console-fast } ] }
            console-flaky { routes = [ { provider = console-flaky } ] }
          }
        }
        """;

    private static readonly LocatorAssertionsToHaveTextOptions Soon = new() { Timeout = 15_000 };
    private static readonly LocatorAssertionsToContainTextOptions Contains = new() { Timeout = 15_000 };
    private static readonly LocatorAssertionsToBeVisibleOptions Shown = new() { Timeout = 15_000 };

    [SkippableFact]
    public async Task Console_LiveRelay_ShowsProvidersStreamsBreakerAndKeys()
    {
        var chromium = Environment.GetEnvironmentVariable("ORCHESTRATOR_CHROMIUM") ?? "/usr/bin/chromium";
        Skip.IfNot(File.Exists(chromium), $"no Chromium at {chromium} (apt-get install chromium, or set ORCHESTRATOR_CHROMIUM): the console's browser test needs one");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");   // the system browser only, never a download

        await using var relay = await RelayHost.StartAsync(Config);
        using var client = relay.Client();
        using var admin = relay.Client(AdminKey);
        using (var created = await admin.PostAsJsonAsync("/admin/keys", new { name = "acme", credit_usd = 5 }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox"],   // CI runs as root, where Chromium's sandbox cannot start
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 1000 } });
        var consoleErrors = new List<string>();
        // Any script error fails the test; the one resource error expected is the feed's 401 for the wrong key.
        page.Console += (_, message) => { if (message.Type == "error" && !message.Text.Contains("401")) consoleErrors.Add(message.Text); };
        page.PageError += (_, error) => consoleErrors.Add(error);

        await page.GotoAsync(new Uri(relay.BaseUrl, "/console").ToString());
        // A wrong key is refused and the form says so; the right one connects.
        await page.GetByLabel("Admin key").FillAsync("adm-wrong");
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync();
        await Expect(page.Locator("#login-error")).ToContainTextAsync("refused", Contains);
        await page.GetByLabel("Admin key").FillAsync(AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync();
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live", Soon);

        // Every configured provider, each state in words.
        foreach (var provider in new[] { "console-slow", "console-fast", "console-flaky" })
            await Expect(page.Locator($"tr[data-provider='{provider}'] .state")).ToHaveTextAsync("healthy", Soon);
        // The shipped providers are there too (a config adds to them); those without a key say so in words.
        await Expect(page.Locator("tr[data-provider]")).ToHaveCountAsync(3 + 5);
        await Expect(page.Locator("tr[data-provider='anthropic'] .state")).ToHaveTextAsync("no key", Soon);
        await Expect(page.Locator("tr[data-key] td").Nth(1)).ToHaveTextAsync("acme", Soon);
        await Expect(page.Locator("#open-streams")).ToHaveTextAsync("0", Soon);

        // Some quick traffic: the time to first token and the overhead get numbers.
        for (var i = 0; i < 5; i++) await PostAsync(client, "console-fast", stream: true);
        await Expect(page.Locator("#ttft")).ToContainTextAsync("ms", Contains);
        await Expect(page.Locator("#overhead")).ToContainTextAsync("ms", Contains);

        // Three slow streams (80 tokens, 100 ms apart) held open: the count rises to 3, then falls back once they end.
        var streams = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("console-slow", stream: true) };
                var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                streams.Add(response);
            }
            await Expect(page.Locator("#open-streams")).ToHaveTextAsync("3", Soon);
            await Expect(page.Locator("tr[data-provider='console-slow'] td.num")).ToHaveTextAsync("3", Soon);

            // Two failures in a row on console-flaky (no retries): its breaker opens, and the page says "open".
            for (var i = 0; i < 2; i++) await PostAsync(client, "console-flaky", stream: false, fault: "status=503;times=all", HttpStatusCode.BadGateway);
            await Expect(page.Locator("tr[data-provider='console-flaky'] .state")).ToHaveTextAsync("open", Soon);
            await Expect(page.Locator("tr[data-provider='console-flaky'] .breaker")).ToHaveTextAsync("open (2 failed in a row)", Soon);
            await Expect(page.Locator("#failures tbody tr").First).ToBeVisibleAsync(Shown);
            await Expect(page.Locator("#failures")).ToContainTextAsync("upstream error", Contains);
            await Expect(page.Locator("#errors-by-class")).ToContainTextAsync("upstream error: 2", Contains);

            var results = ResultsDirectory();
            var desktop = Path.Combine(results, "console-desktop.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = desktop, FullPage = true });
            output.WriteLine($"screenshot: {desktop}");

            // A phone: nothing wider than the screen (tables turn into cards), and the numbers still there.
            await page.SetViewportSizeAsync(390, 844);
            await Expect(page.Locator("#open-streams")).ToHaveTextAsync("3", Soon);
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 0, $"the page is {overflow}px wider than a phone's screen");
            var phone = Path.Combine(results, "console-phone.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = phone, FullPage = true });
            output.WriteLine($"screenshot: {phone}");
        }
        finally
        {
            foreach (var stream in streams) stream.Dispose();   // cancels them: the relay closes the upstream side
        }
        await Expect(page.Locator("#open-streams")).ToHaveTextAsync("0", Soon);
        Assert.Empty(consoleErrors);
    }

    /// <summary><c>ORCHESTRATOR_TEST_RESULTS</c> (.ci/run sets it to its results directory), else TestResults beside the tests.</summary>
    private static string ResultsDirectory()
    {
        var root = Environment.GetEnvironmentVariable("ORCHESTRATOR_TEST_RESULTS") ?? Path.Combine(AppContext.BaseDirectory, "TestResults");
        var directory = Path.Combine(root, "console");
        Directory.CreateDirectory(directory);
        return directory;
    }

    private static StringContent Chat(string model, bool stream) =>
        new($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json");

    private static async Task PostAsync(HttpClient client, string model, bool stream, string? fault = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat(model, stream) };
        if (fault is not null) request.Headers.Add("x-simulator-fault", fault);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{model}: {(int)response.StatusCode} {body}");
    }
}
