namespace Orchestrator.Actors.Settings;

/// <summary>
/// The configuration cannot be used; the message names the key and the problem, one line per problem when a check
/// finds several at once (unknown keys). Start-up stops.
/// </summary>
public sealed class InvalidConfigException : Exception
{
    public InvalidConfigException(string key, string problem) : this([(key, problem)])
    {
    }

    public InvalidConfigException(IReadOnlyList<(string Key, string Problem)> problems)
        : base(string.Join('\n', problems.Select(p => $"Invalid configuration: {p.Key}: {p.Problem}")))
    {
        Key = problems[0].Key;
    }

    /// <summary>The first key at fault.</summary>
    public string Key { get; }
}
