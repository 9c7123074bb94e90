namespace Orchestrator.Actors.Settings;

/// <summary>The configuration cannot be used; the message names the key and the problem. Start-up stops.</summary>
public sealed class InvalidConfigException(string key, string problem)
    : Exception($"Invalid configuration: {key}: {problem}")
{
    public string Key { get; } = key;
}
