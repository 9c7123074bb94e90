using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Tests.EndToEnd;
using Serilog.Core;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// The README's first run for Codex and Gemini CLI: no provider keys, the shipped models, the demo simulator
/// answering. Each client's run must end, promptly, with the simulator's text (Claude Code's is in
/// <see cref="ClaudeCodeTests"/>). Gemini CLI's router asks for JSON by schema and retries prose for minutes.
/// </summary>
[Collection(RealClients.Name)]
public sealed class DemoSimulatorTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ClientKey = "sk-client-demo";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly string _work = Directory.CreateTempSubdirectory("demo-simulator-").FullName;
    private readonly CapturingLogSink _log = new("{Message:lj}");
    private RelayHost _relay = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "notes.txt"), "nothing to see\n");
        _relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["{{ClientKey}}"]
            orchestrator.logging.requests = on
            # No provider keys, whatever this machine's environment holds.
            orchestrator.providers { anthropic.api-key = null, openai.api-key = null, gemini.api-key = null, deepseek.api-key = null }
            """, services => services.AddSingleton<ILogEventSink>(_log));
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [SkippableFact]
    public async Task Codex_SimulatorWithNoKeys_EndsWithTheSimulatorsAnswer()
    {
        var codex = CliTool.Require("codex");
        var home = await ClientHomes.CodexAsync(Path.Combine(_work, ".codex-home"), _relay.BaseUrl, "RELAY_API_KEY");
        var run = await codex.RunAsync(["exec", "--skip-git-repo-check", "--sandbox", "read-only", "Summarize notes.txt in one line."],
            new Dictionary<string, string> { ["CODEX_HOME"] = home, ["RELAY_API_KEY"] = ClientKey }, _work, Bound);
        output.WriteLine(run.ToString());
        AssertEnded(run, "/v1/responses");
    }

    [SkippableFact]
    public async Task GeminiCli_SimulatorWithNoKeys_EndsWithTheSimulatorsAnswer()
    {
        var gemini = CliTool.Require("gemini");
        await ClientHomes.GeminiAsync(_work);
        var run = await gemini.RunAsync(["-p", "Summarize notes.txt in one line."], new Dictionary<string, string>
        {
            ["GOOGLE_GEMINI_BASE_URL"] = _relay.BaseUrl.ToString().TrimEnd('/'),
            ["GEMINI_API_KEY"] = ClientKey,
            ["GEMINI_CLI_TRUST_WORKSPACE"] = "true",
        }, _work, Bound);
        output.WriteLine(run.ToString());
        AssertEnded(run, "/v1beta/models/");
    }

    private void AssertEnded(CliTool.Run run, string path)
    {
        Assert.True(run.ExitCode == 0 && !run.TimedOut, run.ToString());
        // Any three of the simulator's sentences in a row name the relay or a provider.
        Assert.Matches("relay|provider", run.Stdout);
        var requests = _log.Lines.Where(l => l.Contains("HTTP POST " + path)).ToList();
        output.WriteLine($"{requests.Count} requests");
        Assert.InRange(requests.Count, 1, 20);
        Assert.All(requests, l => Assert.Contains("answered by simulator", l));
    }
}
