using System.Text.Json;
using Orchestrator.Tests.EndToEnd;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// Codex (code mode on) through a Gemini upstream: <c>kind = gemini</c> on the shipped openai provider, so its
/// default <c>gpt-6.1-sol</c> goes to a generateContent server. Its custom <c>exec</c> tool travels as a function with one
/// string argument, the call comes back to Codex as a <c>custom_tool_call</c>, and the script's output goes up as a
/// functionResponse; the final answer carries the token only the file holds.
/// </summary>
[Collection(RealClients.Name)]
public sealed class CodexGeminiRouteTests(ITestOutputHelper output)
{
    private const string ClientKey = "sk-client-codex-gemini";
    private const string ReadTokenScript = "const r = await tools.exec_command({cmd: \"cat token.txt\"});\ntext(r.output);";

    [SkippableFact]
    public async Task Codex_ThroughATranslatedGeminiRoute_RunsItsExecToolAndSaysTheToken()
    {
        var codex = CliTool.Require("codex");
        var work = Directory.CreateTempSubdirectory("codex-gemini-").FullName;
        try
        {
            var token = ScriptedAgentUpstream.NewToken();
            await File.WriteAllTextAsync(Path.Combine(work, "token.txt"), token + "\n");
            await using var upstream = await ScriptedAgentUpstream.StartAsync("exec", JsonSerializer.Serialize(new { input = ReadTokenScript }));
            await using var relay = await RelayHost.StartAsync($$"""
                orchestrator.auth.keys = ["{{ClientKey}}"]
                orchestrator.providers.openai { kind = gemini, base-url = "{{upstream.Root}}", api-key = "{{ScriptedAgentUpstream.GeminiKey}}" }
                """);
            var home = await ClientHomes.CodexAsync(Path.Combine(work, ".codex-home"), relay.BaseUrl, "RELAY_API_KEY", noRetries: true);

            var run = await codex.RunAsync(["exec", "--skip-git-repo-check", "--sandbox", "read-only", "Read the file token.txt and tell me the token in it."],
                new Dictionary<string, string> { ["CODEX_HOME"] = home, ["RELAY_API_KEY"] = ClientKey }, work, TimeSpan.FromSeconds(120));
            output.WriteLine(run.ToString());

            Assert.True(run.ExitCode == 0 && !run.TimedOut, run.ToString());
            Assert.Contains(token, run.Stdout);
            var calls = upstream.Requests.ToList();
            Assert.All(calls, c => Assert.Equal(ScriptedAgentUpstream.GeminiKey, c.Headers["x-goog-api-key"]));
            Assert.Contains(calls, c => c.Path.StartsWith("/v1/models/gpt-6.1-sol:", StringComparison.Ordinal) && c.Answered == "CallTool");
            Assert.Contains(calls, c => c.Answered == "SayToken");
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Codex's sandbox may still hold a file for a moment; the temp folder is the system's to clean.
            }
        }
    }
}
