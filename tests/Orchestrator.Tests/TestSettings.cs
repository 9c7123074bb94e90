using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests;

/// <summary>Settings bound the way Program.cs binds them: the real default file with a test layer over it.</summary>
internal static class TestSettings
{
    public static readonly string DefaultsText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, OrchestratorApp.DefaultConfigFile));

    public static OrchestratorSettings From(string userText) =>
        OrchestratorSettings.FromConfig(HoconLoader.Load(DefaultsText, userText));
}
