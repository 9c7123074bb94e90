using System.Globalization;
using System.Net;
using System.Text.Json;
using Orchestrator.Tests.Ledger.Storage;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// Many concurrent streams on one key: every request is recorded once, at its exact cost from the usage its answer
/// reported, and the balance is the credit less the sum of those costs to the last decimal, with nothing left reserved.
/// </summary>
public sealed class LedgerExactnessTests
{
    internal const string Admin = "sk-admin-exactness-test";
    // Prices with many decimals, so a double anywhere on the way would show.
    internal const decimal InputPrice = 1.234567m;
    internal const decimal OutputPrice = 9.876543m;
    internal const decimal Credit = 50m;

    internal static string Config(string ledger) => $$"""
        orchestrator {
          logging { level = Warning, requests = off }
          admin.keys = ["{{Admin}}"]
          providers { sim { kind = simulator, token-delay = 1ms, completion-tokens = 9 } }
          models { "sim" { routes = [ { provider = sim } ], price { input = {{InputPrice.ToString(CultureInfo.InvariantCulture)}}, output = {{OutputPrice.ToString(CultureInfo.InvariantCulture)}} } } }
          {{ledger}}
        }
        """;

    [Fact]
    public async Task ConcurrentStreams_OneKey_BalanceExactToTheLastDecimal()
    {
        await using var relay = await RelayHost.StartAsync(Config(""));
        await RunAsync(relay, 200);
    }

    /// <summary>
    /// <paramref name="count"/> concurrent streams, half asking for usage and half not, with a mix of max_tokens and n;
    /// then the key, the usage records and every answer must agree exactly.
    /// </summary>
    internal static async Task RunAsync(RelayHost relay, int count)
    {
        using var ledger = new LedgerClient(relay.BaseUrl, Admin);
        var key = await ledger.CreateKeyAsync($$"""{"name":"exact","credit_usd":{{Credit}}}""");
        using var client = relay.Client(key: null);

        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i => LedgerClient.ChatAsync(client, key.Secret,
            LedgerClient.StreamBody("sim", includeUsage: i % 2 == 0, maxTokens: i % 3 == 0 ? null : 3 + i % 7, n: i % 5 == 0 ? 2 : null,
                content: new string('x', i % 40)))));

        Assert.All(answers, a => Assert.True(a.Complete, $"{a.Status}: {a.Body}"));
        Assert.Equal(count, answers.Select(a => a.RequestId).Distinct().Count());
        // The usage chunk only where the client asked for it; the relay asked the upstream for every stream.
        Assert.All(answers.Where((_, i) => i % 2 == 0), a => Assert.NotNull(a.CompletionTokens));
        Assert.All(answers.Where((_, i) => i % 2 == 1), a => Assert.Null(a.CompletionTokens));
        Assert.All(answers.Where((_, i) => i % 2 == 1), a => Assert.DoesNotContain("\"usage\"", a.Body));

        // Settlement follows the end of each stream: wait (bounded) until every one is in.
        IReadOnlyDictionary<string, JsonElement> records = new Dictionary<string, JsonElement>();
        JsonElement view = default;
        await Eventually.AssertAsync(async () =>
        {
            records = await ledger.UsageAsync(key.Id);
            view = await ledger.GetKeyAsync(key.Id);
            Assert.Equal(count, records.Count);
            Assert.Equal(count, view.GetProperty("requests").GetInt64());
            Assert.Equal(0m, view.GetProperty("reserved_usd").GetDecimal());
        }, TimeSpan.FromSeconds(20));

        var total = 0m;
        foreach (var answer in answers)
        {
            var record = records[answer.RequestId];
            var input = record.GetProperty("input_tokens").GetInt64();
            var output = record.GetProperty("output_tokens").GetInt64();
            if (answer.CompletionTokens is { } seen)
            {
                Assert.Equal(answer.PromptTokens, input);
                Assert.Equal(seen, output);
            }
            Assert.False(record.GetProperty("usage_estimated").GetBoolean());
            Assert.Equal(200, record.GetProperty("status").GetInt32());
            Assert.True(output > 0);
            var cost = (input * InputPrice + output * OutputPrice) / 1_000_000m;
            Assert.Equal(cost, record.GetProperty("cost_usd").GetDecimal());
            total += cost;
        }
        Assert.Equal(total, view.GetProperty("spent_usd").GetDecimal());
        Assert.Equal(Credit - total, view.GetProperty("balance_usd").GetDecimal());
        Assert.Equal(Credit, view.GetProperty("credited_usd").GetDecimal());

        // The client's own view agrees.
        using var own = new HttpRequestMessage(HttpMethod.Get, "/v1/usage");
        own.Headers.Authorization = new("Bearer", key.Secret);
        using var response = await client.SendAsync(own);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var usage = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(Credit - total, usage.GetProperty("balance_usd").GetDecimal());
        Assert.Equal(count, usage.GetProperty("requests").GetInt64());
    }
}

/// <summary>The same on PostgreSQL (a throwaway server; skipped, saying why, without one).</summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerExactnessPostgresTests(PostgresServer server)
{
    [SkippableFact]
    public async Task ConcurrentStreams_OneKeyOnPostgres_BalanceExactToTheLastDecimal()
    {
        var connectionString = await server.NewSchemaAsync();
        await using var relay = await RelayHost.StartAsync(LedgerExactnessTests.Config(
            $"ledger {{ storage = postgresql, connection-string = \"{connectionString}\" }}"));
        await LedgerExactnessTests.RunAsync(relay, 50);
    }
}
