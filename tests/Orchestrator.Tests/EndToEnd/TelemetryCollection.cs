namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// Tests that read process-wide instruments (meters and activity sources are shared by every host in the test
/// process): they run alone, so no other test's requests move the numbers they assert.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry (alone)";
}
