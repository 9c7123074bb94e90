using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Orchestrator.Tests.Ledger.Storage;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The SQLite ledger across a restart of the host: keys, balances, limits and revocations come back as they were, through a snapshot.</summary>
public sealed class LedgerRestartTests : IDisposable
{
    private const string Admin = "sk-admin-restart-test";
    private readonly TempSqliteFile _database = new();

    private string Config => $$"""
        orchestrator {
          logging { level = Warning, requests = off }
          admin.keys = ["{{Admin}}"]
          ledger { storage = sqlite, path = "{{_database.Path}}", snapshot-every = 3 }
          providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 6 } }
          models {
            "sim"   { routes = [ { provider = sim } ], price { input = 0.5, output = 1.25 } }
            "other" { routes = [ { provider = sim } ], price { input = 0.5, output = 1.25 } }
          }
        }
        """;

    [Fact]
    public async Task Ledger_HostRestartedOnTheSameFile_EveryKeyAsItWas()
    {
        LedgerClient.CreatedKey used, revoked;
        JsonElement usedBefore, revokedBefore;
        IReadOnlyDictionary<string, JsonElement> usageBefore;
        await using (var relay = await RelayHost.StartAsync(Config))
        {
            using var ledger = new LedgerClient(relay.BaseUrl, Admin);
            using var http = relay.Client(key: null);
            used = await ledger.CreateKeyAsync("""{"name":"used","credit_usd":3,"models":["sim"],"rpm":100,"tpm":50000,"max_concurrent":4,"expires_at":"2999-01-01T00:00:00Z"}""");
            revoked = await ledger.CreateKeyAsync("""{"name":"revoked","credit_usd":1}""");
            for (var i = 0; i < 7; i++)
                Assert.Equal(HttpStatusCode.OK, (await LedgerClient.ChatAsync(http, used.Secret, LedgerClient.StreamBody("sim", includeUsage: i % 2 == 0))).Status);
            await ledger.CreditAsync(used.Id, -0.25m, "refund");
            await ledger.ChangeAsync(used.Id, """{"name":"renamed","rpm":7}""");
            Assert.Equal(HttpStatusCode.OK, (await LedgerClient.ChatAsync(http, revoked.Secret, LedgerClient.StreamBody("sim", includeUsage: true))).Status);
            await Eventually.AssertAsync(async () =>
            {
                Assert.Equal(7, (await ledger.GetKeyAsync(used.Id)).GetProperty("requests").GetInt64());
                Assert.Equal(1, (await ledger.GetKeyAsync(revoked.Id)).GetProperty("requests").GetInt64());
                Assert.Equal(7, (await ledger.UsageAsync(used.Id)).Count);
            }, TimeSpan.FromSeconds(10));
            await ledger.RevokeAsync(revoked.Id);
            usedBefore = await ledger.GetKeyAsync(used.Id);
            revokedBefore = await ledger.GetKeyAsync(revoked.Id);
            usageBefore = await ledger.UsageAsync(used.Id);
        }

        // A snapshot was taken on the way (every 3 events), so the next start recovers from one.
        Assert.True(SnapshotRows("key-" + used.Id) > 0, "no snapshot of the used key");

        await using (var relay = await RelayHost.StartAsync(Config))
        {
            using var ledger = new LedgerClient(relay.BaseUrl, Admin);
            using var http = relay.Client(key: null);
            var usedAfter = await ledger.GetKeyAsync(used.Id);
            Assert.Equal(usedBefore.GetRawText(), usedAfter.GetRawText());
            Assert.Equal(revokedBefore.GetRawText(), (await ledger.GetKeyAsync(revoked.Id)).GetRawText());
            Assert.Equal("renamed", usedAfter.GetProperty("name").GetString());
            Assert.Equal(7, usedAfter.GetProperty("rpm").GetInt32());
            Assert.Equal(4, usedAfter.GetProperty("max_concurrent").GetInt32());
            Assert.True((await ledger.GetKeyAsync(revoked.Id)).GetProperty("revoked").GetBoolean());
            var spent = usageBefore.Values.Sum(r => r.GetProperty("cost_usd").GetDecimal());
            Assert.Equal(spent, usedAfter.GetProperty("spent_usd").GetDecimal());
            Assert.Equal(2.75m - spent, usedAfter.GetProperty("balance_usd").GetDecimal());
            Assert.Equal(usageBefore.Keys.Order(), (await ledger.UsageAsync(used.Id)).Keys.Order());

            // And they act on it: the revoked key is refused, the allow-list and the new rpm hold.
            Assert.Equal(HttpStatusCode.Unauthorized, (await LedgerClient.ChatAsync(http, revoked.Secret, LedgerClient.StreamBody("sim", true))).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await LedgerClient.ChatAsync(http, used.Secret, LedgerClient.StreamBody("other", true))).Status);
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 8; i++) statuses.Add((await LedgerClient.ChatAsync(http, used.Secret, LedgerClient.StreamBody("sim", true))).Status);
            Assert.Equal(7, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        }
    }

    private int SnapshotRows(string persistenceId)
    {
        using var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        using var tables = connection.CreateCommand();
        tables.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%snapshot%'";
        var table = (string)tables.ExecuteScalar()!;
        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM \"{table}\" WHERE persistence_id = $id";
        count.Parameters.AddWithValue("$id", persistenceId);
        return Convert.ToInt32(count.ExecuteScalar());
    }

    public void Dispose() => _database.Dispose();
}
