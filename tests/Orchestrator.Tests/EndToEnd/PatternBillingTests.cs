using System.Net;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// What a billed key pays for an id a pattern serves: the catalogue's price for that id (its family's for a dated
/// snapshot), never $0 for an id priced nowhere (refused, with why), and nothing for the shipped demo simulator's
/// made-up answers.
/// </summary>
public sealed class PatternBillingTests : IAsyncLifetime
{
    private const string Admin = "sk-admin-pattern-billing";
    private RelayHost _relay = null!;
    private LedgerClient _ledger = null!;

    public async Task InitializeAsync()
    {
        _relay = await RelayHost.StartAsync($$"""
            orchestrator {
              admin.keys = ["{{Admin}}"]
              auth.keys = ["sk-config-key"]
              providers {
                sim { kind = simulator, token-delay = 0ms, completion-tokens = 5 }
                # The shipped providers without keys, whatever this machine's environment holds.
                anthropic.api-key = null
              }
              models {
                "vendor-*" { routes = [ { provider = sim } ] }
                "claude-x-*" { routes = [ { provider = sim } ] }
              }
              catalogue."claude-x-1" { price { input = 10, output = 20 } }
            }
            """);
        _ledger = new LedgerClient(_relay.BaseUrl, Admin);
    }

    public async Task DisposeAsync()
    {
        _ledger.Dispose();
        await _relay.DisposeAsync();
    }

    /// <summary>The key's one usage record, once the ledger has written it.</summary>
    private async Task<System.Text.Json.JsonElement> RecordAsync(string keyId)
    {
        System.Text.Json.JsonElement record = default;
        await Eventually.AssertAsync(async () => record = Assert.Single((await _ledger.UsageAsync(keyId)).Values), TimeSpan.FromSeconds(10));
        return record;
    }

    private static string Body(string model) => $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task UnpricedId_BilledKeyIsRefusedWithWhy_ConfigKeyIsServed()
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"buyer","credit_usd":5}""");
        using var client = _relay.Client(null);
        var refused = await LedgerClient.ChatAsync(client, key.Secret, Body("vendor-new-1"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("model_not_priced", refused.Body);
        Assert.Contains("vendor-new-1", refused.Body);
        Assert.True((await LedgerClient.ChatAsync(client, "sk-config-key", Body("vendor-new-1"))).Complete);
    }

    [Fact]
    public async Task DatedSnapshot_IsBilledAtItsUndatedModelsCataloguePrice()
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"dated","credit_usd":5}""");
        using var client = _relay.Client(null);
        var answer = await LedgerClient.ChatAsync(client, key.Secret, Body("claude-x-1-20260101"));
        Assert.True(answer.Complete, answer.Body);
        var usage = await RecordAsync(key.Id);
        var cost = usage.GetProperty("cost_usd").GetDecimal();
        Assert.Equal(usage.GetProperty("input_tokens").GetInt64() * 10m / 1_000_000 + usage.GetProperty("output_tokens").GetInt64() * 20m / 1_000_000, cost);
        Assert.True(cost > 0);
    }

    [Fact]
    public async Task ShippedModel_AnsweredByTheDemoSimulator_CostsNothing()
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"demo","credit_usd":5}""");
        using var client = _relay.Client(null);
        var answer = await LedgerClient.ChatAsync(client, key.Secret, Body("claude-sonnet-4-5"));   // catalogue-priced, anthropic has no key
        Assert.True(answer.Complete, answer.Body);
        var usage = await RecordAsync(key.Id);
        Assert.Equal(("simulator", 0m), (usage.GetProperty("provider").GetString(), usage.GetProperty("cost_usd").GetDecimal()));
        Assert.True(usage.GetProperty("output_tokens").GetInt64() > 0);
    }
}
