using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests;

/// <summary>Settings bound the way Program.cs binds them: the real default file with a test layer over it.</summary>
internal static class TestSettings
{
    public static readonly string DefaultsText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, OrchestratorApp.DefaultConfigFile));

    /// <summary>The shipped model catalogue, which the host reads beside the defaults.</summary>
    public static readonly string CatalogueText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", HoconLoader.CatalogueFile));

    public static OrchestratorSettings From(string userText) =>
        OrchestratorSettings.FromConfig(HoconLoader.Load(DefaultsText, userText, catalogueText: CatalogueText));
}
