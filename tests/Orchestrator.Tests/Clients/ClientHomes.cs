namespace Orchestrator.Tests.Clients;

/// <summary>
/// The settings a real client reads from its home, written where <see cref="CliTool"/> points it: the relay as its
/// provider, and nothing that would reach past 127.0.0.1 (no update checks, analytics, telemetry or feedback).
/// </summary>
internal static class ClientHomes
{
    /// <summary>Codex's <c>config.toml</c> in <paramref name="codexHome"/> (its CODEX_HOME): a custom provider on the relay's Responses API, key from <paramref name="envKey"/>.</summary>
    public static async Task<string> CodexAsync(string codexHome, Uri relay, string envKey, bool noRetries = false)
    {
        Directory.CreateDirectory(codexHome);
        await File.WriteAllTextAsync(Path.Combine(codexHome, "config.toml"), $$"""
            model_provider = "relay"
            check_for_update_on_startup = false

            [analytics]
            enabled = false

            [feedback]
            enabled = false

            [otel]
            exporter = "none"

            [model_providers.relay]
            name = "relay"
            base_url = "{{new Uri(relay, "/v1")}}"
            env_key = "{{envKey}}"
            wire_api = "responses"
            {{(noRetries ? "request_max_retries = 0\nstream_max_retries = 0" : "")}}
            """);
        return codexHome;
    }

    /// <summary>Gemini CLI's <c>settings.json</c> under <paramref name="workDir"/>'s .home (CliTool's HOME): the API-key login.</summary>
    public static async Task GeminiAsync(string workDir)
    {
        var settings = Path.Combine(workDir, ".home", ".gemini");
        Directory.CreateDirectory(settings);
        await File.WriteAllTextAsync(Path.Combine(settings, "settings.json"), """
            {
              "security": { "auth": { "selectedType": "gemini-api-key" } },
              "privacy": { "usageStatisticsEnabled": false },
              "telemetry": { "enabled": false },
              "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false }
            }
            """);
    }
}
