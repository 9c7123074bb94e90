namespace Orchestrator.Actors.Settings;

/// <summary>Where the usage ledger keeps its journal, snapshots and tables (<c>orchestrator.ledger</c>).</summary>
public enum LedgerStorage
{
    Sqlite,
    Postgresql,
    Memory,
}

/// <summary>The usage ledger's storage (<c>orchestrator.ledger</c>).</summary>
/// <param name="Path">sqlite: the database file as configured, relative to the working directory; see <see cref="DatabaseFile"/>.</param>
/// <param name="ConnectionString">postgresql: the Npgsql connection string (it may hold a password); null otherwise.</param>
/// <param name="SnapshotEvery">Events a key's actor persists between two snapshots.</param>
public sealed record LedgerSettings(LedgerStorage Storage, string Path, Secret? ConnectionString, int SnapshotEvery)
{
    /// <summary>A reservation no settlement ended within this long is released (a request that outlived every timeout).</summary>
    public TimeSpan ReservationTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a key's events wait to share one journal write (<c>group-commit</c>).</summary>
    public TimeSpan GroupCommit { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>How long a request runs before its reservation is journaled (<c>reserve-write-delay</c>; zero: at once).</summary>
    public TimeSpan ReserveWriteDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long settled requests wait to share one usage-table write (<c>usage-flush-interval</c>).</summary>
    public TimeSpan UsageFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>What every key actor is told.</summary>
    public Ledger.LedgerOptions Options => new(SnapshotEvery, ReservationTimeout) { GroupCommit = GroupCommit, ReserveWriteDelay = ReserveWriteDelay, UsageFlushInterval = UsageFlushInterval };

    /// <summary>sqlite: the database file's full path, resolved against the working directory.</summary>
    public string DatabaseFile => System.IO.Path.GetFullPath(Path);

    internal static LedgerSettings From(ConfigNode node)
    {
        var raw = node.String("storage");
        var storage = raw.ToLowerInvariant() switch
        {
            "sqlite" => LedgerStorage.Sqlite,
            "postgresql" => LedgerStorage.Postgresql,
            "memory" => LedgerStorage.Memory,
            _ => throw new InvalidConfigException(node.KeyPath("storage"), $"'{raw}' is not one of sqlite, postgresql, memory"),
        };
        var path = node.String("path");
        if (storage == LedgerStorage.Sqlite && string.IsNullOrWhiteSpace(path))
            throw new InvalidConfigException(node.KeyPath("path"), "must name a file when storage = sqlite");
        var connectionString = node.OptionalString("connection-string");
        if (storage == LedgerStorage.Postgresql && string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidConfigException(node.KeyPath("connection-string"),
                "is required when storage = postgresql (set it, or the ORCHESTRATOR_DB environment variable)");
        return new LedgerSettings(
            storage,
            path,
            storage == LedgerStorage.Postgresql ? new Secret(connectionString!) : null,
            node.Int("snapshot-every", 1))
        {
            ReservationTimeout = node.Duration("reservation-timeout"),
            GroupCommit = node.Duration("group-commit", allowZero: true),
            ReserveWriteDelay = node.Duration("reserve-write-delay", allowZero: true),
            UsageFlushInterval = node.Duration("usage-flush-interval", allowZero: true),
        };
    }
}
