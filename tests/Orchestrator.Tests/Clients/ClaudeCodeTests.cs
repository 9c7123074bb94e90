using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Tests.EndToEnd;
using Serilog.Core;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// Claude Code 2.1.328 (<c>claude -p</c>), unchanged, through the relay: its default model and features, only
/// <c>ANTHROPIC_BASE_URL</c> and <c>ANTHROPIC_API_KEY</c> set. The relay runs its shipped models; a config file
/// overrides one provider, as a deployment would. A real tool round trip: the model reads a file with Claude Code's
/// <c>Read</c> tool and answers with the token only that file holds.
/// </summary>
[Collection(RealClients.Name)]
public sealed class ClaudeCodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ClientKey = "sk-client-claude-code";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private readonly string _work = Directory.CreateTempSubdirectory("claude-code-").FullName;
    private readonly string _token = ScriptedAgentUpstream.NewToken();

    public Task InitializeAsync() => File.WriteAllTextAsync(Path.Combine(_work, "secret.txt"), $"The token is {_token}\n");

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    private string ReadInput => JsonSerializer.Serialize(new { file_path = Path.Combine(_work, "secret.txt") });

    [SkippableFact]
    public async Task ClaudeCode_AnthropicUpstream_PassedThroughNatively_ReadsTheFile()
    {
        var calls = await RoundTripAsync($"api-key = \"{ScriptedAgentUpstream.AnthropicKey}\"");

        Assert.All(calls, c => Assert.Equal("/v1/messages", c.Path));
        // The provider's key went up, never the client's.
        Assert.All(calls, c => Assert.Equal(ScriptedAgentUpstream.AnthropicKey, c.Headers["x-api-key"]));
        Assert.DoesNotContain(calls, c => c.Headers.Values.Any(v => v.Contains(ClientKey)));
        var main = calls.First(c => c.Answered == "CallTool");
        output.WriteLine($"upstream saw: anthropic-beta: {main.Headers.GetValueOrDefault("anthropic-beta")}; fields: {string.Join(", ", main.Body.EnumerateObject().Select(p => p.Name))}");
        // Claude Code's own id, its beta flags and its fields reach the upstream as it wrote them.
        Assert.Equal("claude-opus-5-5", main.Body.GetProperty("model").GetString());
        Assert.False(string.IsNullOrEmpty(main.Headers.GetValueOrDefault("anthropic-beta")), "anthropic-beta was not passed on");
        foreach (var field in (string[])["system", "tools", "metadata", "max_tokens"])
            Assert.True(main.Body.TryGetProperty(field, out _), $"{field} did not reach the upstream");
    }

    [SkippableFact]
    public async Task ClaudeCode_OpenAiChatUpstream_Translated_ReadsTheFile()
    {
        // kind = openai on the shipped anthropic provider: every claude-* id now goes to a chat-completions server.
        var calls = await RoundTripAsync($"kind = openai, api-key = \"{ScriptedAgentUpstream.OpenAiKey}\"");

        Assert.All(calls, c => Assert.Equal("/v1/chat/completions", c.Path));
        Assert.All(calls, c => Assert.Equal("Bearer " + ScriptedAgentUpstream.OpenAiKey, c.Headers["authorization"]));
        Assert.Equal("claude-opus-5-5", calls.First(c => c.Answered == "CallTool").Body.GetProperty("model").GetString());
    }

    [SkippableFact]
    public async Task ClaudeCode_GeminiUpstream_Translated_ReadsTheFile()
    {
        var calls = await RoundTripAsync($"kind = gemini, api-key = \"{ScriptedAgentUpstream.GeminiKey}\"");

        Assert.All(calls, c => Assert.StartsWith("/v1/models/claude-", c.Path));
        Assert.All(calls, c => Assert.Equal(ScriptedAgentUpstream.GeminiKey, c.Headers["x-goog-api-key"]));
    }

    /// <summary>
    /// Claude Code's Read round trip against a scripted upstream behind the shipped anthropic provider, overridden with
    /// <paramref name="provider"/> (its kind and key): the run ends well, its answer holds the file's token, the upstream
    /// was asked for the tool call and then given its result. The upstream's requests, for the dialect's own checks.
    /// </summary>
    private async Task<List<ScriptedAgentUpstream.Recorded>> RoundTripAsync(string provider)
    {
        var claude = CliTool.Require("claude");
        await using var upstream = await ScriptedAgentUpstream.StartAsync("Read", ReadInput);
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["{{ClientKey}}"]
            orchestrator.providers.anthropic { base-url = "{{upstream.Root}}", {{provider}} }
            """);

        var run = await RunAsync(claude, relay);

        Assert.True(run.ExitCode == 0 && !run.TimedOut, run.ToString());
        Assert.Contains(_token, run.Stdout);
        var calls = upstream.Requests.ToList();
        Assert.Contains(calls, c => c.Answered == "CallTool");
        Assert.Contains(calls, c => c.Answered == "SayToken");
        return calls;
    }

    /// <summary>The README's first run: no provider keys, the shipped simulator answers. Any loop must end.</summary>
    [SkippableTheory]
    [InlineData(null)]
    [InlineData("claude-sonnet-4-5")]
    public async Task ClaudeCode_SimulatorWithNoKeys_EndsWithinBounds(string? model)
    {
        var claude = CliTool.Require("claude");
        var log = new CapturingLogSink("{Message:lj}");
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator.auth.keys = ["{{ClientKey}}"]
            orchestrator.logging.requests = on
            # No provider keys, whatever this machine's environment holds.
            orchestrator.providers { anthropic.api-key = null, openai.api-key = null, gemini.api-key = null, deepseek.api-key = null }
            """, services => services.AddSingleton<ILogEventSink>(log));

        var started = DateTime.UtcNow;
        var run = await RunAsync(claude, relay, model, "Read the file secret.txt and tell me what it says.", TimeSpan.FromSeconds(60));

        Assert.True(run.ExitCode == 0 && !run.TimedOut, run.ToString());
        var requests = log.Lines.Count(l => l.Contains("HTTP POST /v1/messages"));
        output.WriteLine($"{requests} requests in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.InRange(requests, 1, 20);
        Assert.All(log.Lines.Where(l => l.Contains("HTTP POST /v1/messages")), l => Assert.Contains("answered by simulator", l));
    }

    private async Task<CliTool.Run> RunAsync(CliTool claude, RelayHost relay, string? model = null,
        string prompt = "Read the file secret.txt and reply with the token it holds.", TimeSpan? bound = null)
    {
        var args = new List<string> { "-p", prompt };
        if (model is not null) args.AddRange(["--model", model]);
        var run = await claude.RunAsync(args, new Dictionary<string, string>
        {
            ["ANTHROPIC_BASE_URL"] = relay.BaseUrl.ToString().TrimEnd('/'),
            ["ANTHROPIC_API_KEY"] = ClientKey,
            // Nothing but the relay is reachable from here: no telemetry, error reports or update checks.
            ["DISABLE_TELEMETRY"] = "1",
            ["DISABLE_ERROR_REPORTING"] = "1",
            ["DISABLE_AUTOUPDATER"] = "1",
            ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
        }, _work, bound ?? Bound);
        output.WriteLine(run.ToString());
        return run;
    }
}

/// <summary>The real clients run one at a time: each is a heavy process, and the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealClients
{
    public const string Name = "real clients";
}
