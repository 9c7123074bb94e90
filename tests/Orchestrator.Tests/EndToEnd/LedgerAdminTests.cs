using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The admin API answers admin keys only (and does not exist without one); no secret ever leaves in a log, an export or an error.</summary>
public sealed class LedgerAdminTests
{
    private const string Static = "sk-static-client-key";

    private static string Config(string admin) => $$"""
        orchestrator {
          logging { level = Debug, requests = on }
          auth.keys = ["{{Static}}"]
          admin.keys = [{{admin}}]
          providers { sim { kind = simulator, token-delay = 0ms, completion-tokens = 4 } }
          models {
            "sim"   { routes = [ { provider = sim } ], price { input = 2, output = 8 } }
            "other" { routes = [ { provider = sim } ], price { input = 2, output = 8 } }
          }
        }
        """;

    [Fact]
    public async Task AdminApi_ClientKeys_401()
    {
        var admin = "sk-admin-" + Guid.NewGuid().ToString("N");
        await using var relay = await RelayHost.StartAsync(Config($"\"{admin}\""));
        using var ledger = new LedgerClient(relay.BaseUrl, admin);
        var key = await ledger.CreateKeyAsync("""{"name":"client","credit_usd":1}""");
        using var http = relay.Client(key: null);

        foreach (var client in new[] { Static, key.Secret, "sk-orc-not-a-key", "" })
        {
            foreach (var (method, path) in new[] { ("GET", "/admin/keys"), ("POST", "/admin/keys"), ($"GET", $"/admin/keys/{key.Id}"),
                         ("DELETE", $"/admin/keys/{key.Id}"), ("POST", $"/admin/keys/{key.Id}/credit"), ("GET", "/admin/usage"), ("GET", "/admin/nothing-here") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (client.Length > 0) request.Headers.Authorization = new("Bearer", client);
                if (method == "POST") request.Content = new StringContent("""{"name":"x","amount_usd":100}""", Encoding.UTF8, "application/json");
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with '{client[..Math.Min(10, client.Length)]}': {(int)response.StatusCode} {body}");
                Assert.Equal("invalid_api_key", LedgerClient.ErrorOf(body).GetProperty("code").GetString());
            }
        }
        var view = await ledger.GetKeyAsync(key.Id);
        Assert.False(view.GetProperty("revoked").GetBoolean());
        Assert.Equal(1m, view.GetProperty("balance_usd").GetDecimal());
        Assert.Single((await ledger.JsonAsync(HttpMethod.Get, "/admin/keys", null)).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task AdminApi_NoAdminKeyConfigured_404Everywhere()
    {
        await using var relay = await RelayHost.StartAsync(Config(""));
        using var http = relay.Client(key: null);
        foreach (var key in new[] { Static, "sk-admin-guess", "" })
        {
            foreach (var (method, path) in new[] { ("GET", "/admin/keys"), ("POST", "/admin/keys"), ("GET", "/admin/usage"), ("DELETE", "/admin/keys/key_1") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (key.Length > 0) request.Headers.Authorization = new("Bearer", key);
                if (method == "POST") request.Content = new StringContent("""{"name":"x"}""", Encoding.UTF8, "application/json");
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
        }
    }

    /// <summary>
    /// A whole run at Debug with the request log on: keys made, used, credited, changed, revoked, usage exported,
    /// errors of every kind. No secret made or configured appears in the log, an export, or any answer but the one
    /// that made it.
    /// </summary>
    [Fact]
    public async Task WholeScenario_LogExportsAndErrors_NoSecretAnywhere()
    {
        var admin = "sk-admin-" + Guid.NewGuid().ToString("N");
        var sink = new CapturingLogSink("{Level} {SourceContext} {Message:lj}");
        var secrets = new List<string> { admin, Static };
        var seen = new StringBuilder();   // every body the run received, but the ones that made the keys
        await using (var relay = await RelayHost.StartAsync(Config($"\"{admin}\""), services => services.AddSingleton<ILogEventSink>(sink)))
        {
            using var ledger = new LedgerClient(relay.BaseUrl, admin);
            using var http = relay.Client(key: null);
            var rich = await ledger.CreateKeyAsync("""{"name":"rich","credit_usd":5,"models":["sim"],"rpm":3}""");
            var poor = await ledger.CreateKeyAsync("""{"name":"poor","credit_usd":0.000001}""");
            var revoked = await ledger.CreateKeyAsync("""{"name":"revoked","credit_usd":1}""");
            secrets.AddRange([rich.Secret, poor.Secret, revoked.Secret]);
            Assert.All(secrets.Skip(2), s => Assert.StartsWith("sk-orc-", s));

            async Task Chat(string key, string body) => seen.AppendLine((await LedgerClient.ChatAsync(http, key, body)).Body);
            var chat = LedgerClient.StreamBody("sim", includeUsage: true);
            await Chat(rich.Secret, chat);
            await Chat(rich.Secret, LedgerClient.StreamBody("sim", includeUsage: false));
            await Chat(rich.Secret, chat.Replace("\"sim\"", "\"other\""));   // 404: outside its allow-list
            await Chat(rich.Secret, chat);
            await Chat(rich.Secret, chat);                                    // 429: rpm 3
            await Chat(poor.Secret, chat);                                    // 402
            await Chat(Static, chat);
            await Chat(rich.Secret + "x", chat);                             // 401: not a key
            await Chat(rich.Secret[..^1], chat);
            await Chat(revoked.Secret, chat);
            seen.AppendLine((await ledger.RevokeAsync(revoked.Id)).GetRawText());
            await Chat(revoked.Secret, chat);                                 // 401: revoked
            seen.AppendLine((await ledger.CreditAsync(poor.Id, 2.5m, "top-up")).GetRawText());
            seen.AppendLine((await ledger.ChangeAsync(rich.Id, """{"name":"richer","tpm":100000}""")).GetRawText());
            await Chat(poor.Secret, chat);
            seen.AppendLine((await ledger.JsonAsync(HttpMethod.Get, "/admin/keys", null)).GetRawText());
            foreach (var key in new[] { rich, poor, revoked })
            {
                using var own = new HttpRequestMessage(HttpMethod.Get, "/v1/usage");
                own.Headers.Authorization = new("Bearer", key.Secret);
                using var response = await http.SendAsync(own);
                seen.AppendLine(await response.Content.ReadAsStringAsync());
            }
            // Billed: rich 3 (the 404 and 429 were not), poor 1 (after its credit), revoked 1 (before it was).
            await Eventually.AssertAsync(async () => Assert.Equal(5,
                (await ledger.UsageAsync(rich.Id)).Count + (await ledger.UsageAsync(poor.Id)).Count + (await ledger.UsageAsync(revoked.Id)).Count), TimeSpan.FromSeconds(10));
            var json = await ledger.RawAsync("/admin/usage");
            var csv = await ledger.RawAsync("/admin/usage?format=csv");
            Assert.Equal(6, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);   // the header and 5 requests
            seen.AppendLine(json).AppendLine(csv);
            // Admin errors: a wrong admin key, a bad body, an unknown key id.
            foreach (var (method, path, key, body) in new[]
                     {
                         ("GET", "/admin/keys", rich.Secret, (string?)null), ("GET", "/admin/keys", admin + "x", null),
                         ("POST", "/admin/keys", admin, $$"""{"name":"{{rich.Secret}}","credit_usd":"{{admin}}"}"""),
                         ("POST", $"/admin/keys/{rich.Id}/credit", admin, """{"amount_usd":"1","note":1}"""),
                         ("GET", "/admin/keys/key_missing", admin, null), ("GET", "/admin/usage?since=yesterday", admin, null),
                     })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                request.Headers.Authorization = new("Bearer", key);
                if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.SendAsync(request);
                Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
                seen.AppendLine(await response.Content.ReadAsStringAsync());
            }
        }   // stopped: every line is written

        var log = string.Join('\n', sink.Lines);
        var everything = seen.ToString();
        Assert.Contains("insufficient_quota", everything);
        Assert.Contains("rate_limit_exceeded", everything);
        Assert.Contains("model_not_found", everything);
        Assert.Contains("revoked", everything);
        Assert.Contains("/v1/chat/completions", log);   // the request log was on
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, log);
            Assert.DoesNotContain(secret, everything);
            // Nor a recognisable part of one (the admin key and ledger keys are high-entropy past their prefix).
            Assert.DoesNotContain(secret[^16..], log);
            Assert.DoesNotContain(secret[^16..], everything);
        }
    }
}
