using Akka.Persistence.Sql;
using Orchestrator.Actors.Settings;
using HoconConfig = Akka.Configuration.Config;
using static Orchestrator.Actors.Settings.HoconLoader;

namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>
/// Akka's <c>akka.persistence</c> section for the configured ledger storage: the journal and snapshot store of
/// Akka.Persistence.Sql (tables created at first use) on the ledger's database, or Akka's in-memory ones. The host
/// lays it over the rest of the configuration; <see cref="OrchestratorSettings"/> refuses a config file that sets
/// <c>akka.persistence</c> itself, so nothing here is overridden without a word.
/// </summary>
public static class LedgerPersistence
{
    public const string JournalPluginId = "akka.persistence.journal.sql";
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";
    public const string QueryPluginId = "akka.persistence.query.journal.sql";

    // linq2db provider names (LinqToDB.ProviderName.SQLiteMS, .PostgreSQL15).
    private const string SqliteProvider = "SQLite.MS";
    private const string PostgresProvider = "PostgreSQL.15";

    public static HoconConfig Config(LedgerSettings settings) => settings.Storage switch
    {
        LedgerStorage.Sqlite => Sql(SqliteDatabase.ConnectionString(settings.DatabaseFile), SqliteProvider),
        LedgerStorage.Postgresql => Sql(settings.ConnectionString!.Reveal(), PostgresProvider),
        LedgerStorage.Memory => Akka.Configuration.ConfigurationFactory.ParseString("""
            akka.persistence {
              journal.plugin = "akka.persistence.journal.inmem"
              snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            }
            """),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Storage, "unknown ledger storage"),
    };

    /// <summary>
    /// The plugin's own defaults go in as the fallback, so the section is complete whether or not the plugin's
    /// extension has loaded them into the system yet.
    /// </summary>
    private static HoconConfig Sql(string connectionString, string provider)
    {
        var connection = $"""
            connection-string = {Quote(connectionString)}
            provider-name = "{provider}"
            """;
        return Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "{{JournalPluginId}}"
                sql {
                  class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                  {{connection}}
                  auto-initialize = on
                }
              }
              snapshot-store {
                plugin = "{{SnapshotPluginId}}"
                sql {
                  class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                  {{connection}}
                  auto-initialize = on
                }
              }
              query.journal.sql {
                class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
                {{connection}}
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
