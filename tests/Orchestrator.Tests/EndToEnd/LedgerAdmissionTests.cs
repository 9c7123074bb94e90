using System.Net;
using System.Text.Json;
using Orchestrator.Actors.Dialects;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>A relay with the ledger on and a fake provider that counts what reaches it, shared by the admission tests.</summary>
public sealed class LedgerRelayFixture : IAsyncLifetime
{
    public const string Admin = "sk-admin-admission-test";

    public FakeUpstream Upstream { get; private set; } = null!;
    public RelayHost Relay { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        Relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
              admin.keys = ["{{Admin}}"]
              providers {
                fake { kind = openai, base-url = "{{Upstream.BaseUrl}}", api-key = "sk-upstream" }
                slow { kind = simulator, token-delay = 100ms, completion-tokens = 20 }
              }
              models {
                "priced" { routes = [ { provider = fake, model = "upstream-ok" } ], price { input = 1, output = 2 } }
                "other"  { routes = [ { provider = fake, model = "upstream-ok" } ], price { input = 1, output = 2 } }
                "slow"   { routes = [ { provider = slow } ], price { input = 1, output = 2 } }
                # Cut after two tokens, resumed on the second route.
                "resumed" { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake, model = "upstream-ok" } ], price { input = 1, output = 2 } }
                "resumed-no-usage" { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake, model = "no-usage" } ], price { input = 1, output = 2 } }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>What a ledger key is let through for: its balance (402), its limits (429 with OpenAI's headers), revocation, expiry and allow-list.</summary>
public sealed class LedgerAdmissionTests(LedgerRelayFixture fixture) : IClassFixture<LedgerRelayFixture>, IDisposable
{
    private readonly LedgerClient _ledger = new(fixture.Relay.BaseUrl, LedgerRelayFixture.Admin);
    private readonly HttpClient _client = fixture.Relay.Client(key: null);

    private static string Body(string model, string user, int maxTokens = 5, bool stream = false) =>
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"max_tokens":{{maxTokens}},"user":"{{user}}","messages":[{"role":"user","content":"What is the price of one request, exactly?"}]}""";

    [Fact]
    public async Task Balance_EqualToReservationThenOneMicroDollarLess_AdmittedThen402()
    {
        var user = "boundary-" + Guid.NewGuid().ToString("N");
        var body = Body("priced", user);
        // The reservation: the prompt as the relay estimates it at $1/MTok, and max_tokens 5 at $2/MTok.
        var input = TokenEstimate.Input(JsonDocument.Parse(body).RootElement);
        var reservation = (input * 1m + 5 * 2m) / 1_000_000m;

        var exact = await _ledger.CreateKeyAsync($$"""{"name":"exact","credit_usd":{{reservation}}}""");
        var admitted = await LedgerClient.ChatAsync(_client, exact.Secret, body);
        Assert.Equal(HttpStatusCode.OK, admitted.Status);
        Assert.Equal(1, fixture.Upstream.Calls("upstream-ok", user));

        var poor = await _ledger.CreateKeyAsync($$"""{"name":"poor","credit_usd":{{reservation - 0.000001m}}}""");
        var refused = await LedgerClient.ChatAsync(_client, poor.Secret, body);
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.Status);
        var error = LedgerClient.ErrorOf(refused.Body);
        Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());
        Assert.Equal("insufficient_quota", error.GetProperty("code").GetString());
        Assert.Contains("balance", error.GetProperty("message").GetString());
        Assert.Equal(1, fixture.Upstream.Calls("upstream-ok", user));   // nothing more went upstream
        var view = await _ledger.GetKeyAsync(poor.Id);
        Assert.Equal(0m, view.GetProperty("reserved_usd").GetDecimal());
        Assert.Equal(0, view.GetProperty("requests").GetInt64());
    }

    [Fact]
    public async Task Rpm_PastTheLimit_429WithRequestHeaders()
    {
        var user = "rpm-" + Guid.NewGuid().ToString("N");
        var key = await _ledger.CreateKeyAsync("""{"name":"rpm","credit_usd":1,"rpm":2}""");
        // An answer carries the key's limits as OpenAI's do, the request it answers already counted.
        for (var i = 0; i < 2; i++)
        {
            using var answered = await SendAsync(key.Secret, Body("priced", user, stream: i == 1));
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.Equal("2", Header(answered, "x-ratelimit-limit-requests"));
            Assert.Equal((1 - i).ToString(), Header(answered, "x-ratelimit-remaining-requests"));
            Assert.Matches(@"^\d+(\.\d+)?s$|^\d+ms$", Header(answered, "x-ratelimit-reset-requests"));
            Assert.False(answered.Headers.Contains("x-ratelimit-limit-tokens"));
            await answered.Content.ReadAsStringAsync();
        }
        // A key without limits (a ledger key, the config's key) answers without them.
        var unlimited = await _ledger.CreateKeyAsync("""{"name":"unlimited","credit_usd":1}""");
        foreach (var plain in (string[])[unlimited.Secret, "sk-test-client"])
        {
            using var answered = await SendAsync(plain, Body("priced", user + "-plain"));
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.DoesNotContain(answered.Headers, h => h.Key.StartsWith("x-ratelimit-", StringComparison.Ordinal));
        }

        using var refused = await SendAsync(key.Secret, Body("priced", user));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var error = LedgerClient.ErrorOf(await refused.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("2 requests per minute", error.GetProperty("message").GetString());
        Assert.Contains("not the provider's", error.GetProperty("message").GetString());   // not an upstream 429
        // Two taken a moment ago; one comes back every 30s.
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 30);
        Assert.Equal("2", Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Matches(@"^\d+(\.\d+)?s$|^\d+ms$", Header(refused, "x-ratelimit-reset-requests"));
        Assert.False(refused.Headers.Contains("x-ratelimit-limit-tokens"));   // no TPM on this key
        Assert.Equal(2, fixture.Upstream.Calls("upstream-ok", user));
    }

    [Fact]
    public async Task Tpm_PastTheLimitThenCorrectedAtSettle_429WithTokenHeaders()
    {
        const long tpm = 1000;
        var input = TokenEstimate.Input(JsonDocument.Parse(Body("slow", "t")).RootElement);
        // Each request reserves 600 of the 1000 (its prompt and max_tokens): a second fits only once the first settled.
        var body = Body("slow", "t", maxTokens: 600 - input, stream: true);
        var key = await _ledger.CreateKeyAsync($$"""{"name":"tpm","credit_usd":1,"tpm":{{tpm}}}""");
        using (var first = await SendAsync(key.Secret, body, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

            using var refused = await SendAsync(key.Secret, body);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var error = LedgerClient.ErrorOf(await refused.Content.ReadAsStringAsync());
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
            Assert.Equal("tokens", error.GetProperty("type").GetString());
            Assert.Contains($"{tpm} tokens per minute", error.GetProperty("message").GetString());
            Assert.Contains("not the provider's", error.GetProperty("message").GetString());   // not an upstream 429
            // 200 more tokens are needed at 1000 a minute: 12s, less what refilled while the first ran.
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 12);
            Assert.Equal("1000", Header(refused, "x-ratelimit-limit-tokens"));
            Assert.InRange(long.Parse(Header(refused, "x-ratelimit-remaining-tokens")), 400, 599);
            Assert.Matches(@"^\d+(\.\d+)?s$", Header(refused, "x-ratelimit-reset-tokens"));
            Assert.False(refused.Headers.Contains("x-ratelimit-limit-requests"));   // no RPM on this key
            Assert.EndsWith("data: [DONE]\n\n", await first.Content.ReadAsStringAsync());
        }
        // The first used 20 output tokens, not 600-odd: its settlement gave the rest back, long before a refill could.
        await Eventually.AssertAsync(async () =>
        {
            using var again = await SendAsync(key.Secret, Body("slow", "t", maxTokens: 600 - input));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task MaxConcurrent_SecondWhileFirstStreams_429UntilItEnds()
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"concurrent","credit_usd":1,"max_concurrent":1}""");
        using var first = await SendAsync(key.Secret, Body("slow", "c1", maxTokens: 10, stream: true), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using (var refused = await SendAsync(key.Secret, Body("slow", "c2", maxTokens: 10, stream: true)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var error = LedgerClient.ErrorOf(await refused.Content.ReadAsStringAsync());
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
            Assert.Contains("max_concurrent", error.GetProperty("message").GetString());
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }

        Assert.EndsWith("data: [DONE]\n\n", await first.Content.ReadAsStringAsync());
        await Eventually.AssertAsync(async () =>
        {
            using var after = await SendAsync(key.Secret, Body("slow", "c3", maxTokens: 1, stream: true));
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stream_CutByTheClient_BilledForWhatWasStreamedMarkedEstimated()
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"cut","credit_usd":1}""");
        string requestId;
        var seen = 0;
        // No draining on dispose (HttpClient would read the rest of the body): the connection closes mid-stream.
        using var cutting = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = fixture.Relay.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Body("slow", "cut", maxTokens: 20, stream: true), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", key.Secret);
        using (var response = await cutting.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            requestId = response.Headers.GetValues("x-request-id").Single();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (seen < 3 && await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.IsMatch(line, "\"content\":\"[^\"]")) seen++;
            }
        }   // the client leaves after 3 of 20 tokens

        JsonElement record = default;
        await Eventually.AssertAsync(async () => record = (await _ledger.UsageAsync(key.Id))[requestId], TimeSpan.FromSeconds(10));
        Assert.Equal(499, record.GetProperty("status").GetInt32());
        Assert.True(record.GetProperty("usage_estimated").GetBoolean(), record.GetRawText());
        var output = record.GetProperty("output_tokens").GetInt64();
        Assert.InRange(output, 3, 19);   // what was streamed before the cut reached the relay, not the 20 of a whole answer
        var input = record.GetProperty("input_tokens").GetInt64();
        Assert.Equal((input * 1m + output * 2m) / 1_000_000m, record.GetProperty("cost_usd").GetDecimal());
        var view = await _ledger.GetKeyAsync(key.Id);
        Assert.Equal(0m, view.GetProperty("reserved_usd").GetDecimal());
        Assert.Equal(1m - record.GetProperty("cost_usd").GetDecimal(), view.GetProperty("balance_usd").GetDecimal());
    }

    [Theory]
    [InlineData("resumed")]            // the resumed attempt reports its usage; the cut one's is estimated
    [InlineData("resumed-no-usage")]   // no attempt reports usage: all of it estimated, as billed
    public async Task Stream_CutAndResumed_ClientsUsageIsWhatIsBilled(string model)
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"resumed","credit_usd":1}""");
        var body = LedgerClient.StreamBody(model, includeUsage: true, content: "What is the price of one request, exactly?");
        var answer = await LedgerClient.ChatAsync(_client, key.Secret, body);
        Assert.True(answer.Complete, answer.Body);
        Assert.Contains("\"resumed\":1", answer.Body);

        // Both attempts were paid for upstream: the cut one's two tokens and its prompt (estimated), the resumed one's
        // usage. What the client was shown is what the ledger bills, so a client can check its bill from its usage.
        JsonElement record = default;
        await Eventually.AssertAsync(async () => record = (await _ledger.UsageAsync(key.Id))[answer.RequestId], TimeSpan.FromSeconds(10));
        Assert.True(record.GetProperty("usage_estimated").GetBoolean(), record.GetRawText());
        Assert.Equal(answer.PromptTokens, record.GetProperty("input_tokens").GetInt64());
        Assert.Equal(answer.CompletionTokens, record.GetProperty("output_tokens").GetInt64());
        var prompt = TokenEstimate.Input(JsonDocument.Parse(body).RootElement);
        Assert.True(answer.PromptTokens > prompt, $"the client's prompt_tokens {answer.PromptTokens} include the cut attempt's {prompt}");
        var cost = (answer.PromptTokens!.Value * 1m + answer.CompletionTokens!.Value * 2m) / 1_000_000m;
        Assert.Equal(cost, record.GetProperty("cost_usd").GetDecimal());
        Assert.Equal(1m - cost, (await _ledger.GetKeyAsync(key.Id)).GetProperty("balance_usd").GetDecimal());
    }

    [Fact]
    public async Task Revoke_KeyUsedThenRevoked_401AndHistoryKept()
    {
        var key = await _ledger.CreateKeyAsync("""{"name":"to-revoke","credit_usd":1}""");
        var answer = await LedgerClient.ChatAsync(_client, key.Secret, Body("priced", "revoke"));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        await Eventually.AssertAsync(async () => Assert.Single(await _ledger.UsageAsync(key.Id)), TimeSpan.FromSeconds(10));

        var revoked = await _ledger.RevokeAsync(key.Id);
        Assert.True(revoked.GetProperty("revoked").GetBoolean());

        var refused = await LedgerClient.ChatAsync(_client, key.Secret, Body("priced", "revoke"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("invalid_api_key", LedgerClient.ErrorOf(refused.Body).GetProperty("code").GetString());
        Assert.Contains("revoked", LedgerClient.ErrorOf(refused.Body).GetProperty("message").GetString());
        using (var own = new HttpRequestMessage(HttpMethod.Get, "/v1/usage"))
        {
            own.Headers.Authorization = new("Bearer", key.Secret);
            using var response = await _client.SendAsync(own);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var view = await _ledger.GetKeyAsync(key.Id);
        Assert.True(view.GetProperty("revoked").GetBoolean());
        Assert.Equal(1, view.GetProperty("requests").GetInt64());
        Assert.Contains(answer.RequestId, (await _ledger.UsageAsync(key.Id)).Keys);
        var list = await _ledger.JsonAsync(HttpMethod.Get, "/admin/keys", null);
        Assert.Contains(list.GetProperty("data").EnumerateArray(), k => k.GetProperty("id").GetString() == key.Id && k.GetProperty("revoked").GetBoolean());
    }

    [Fact]
    public async Task Expiry_ExpiresAtInThePast_401()
    {
        var user = "expired-" + Guid.NewGuid().ToString("N");
        var expired = await _ledger.CreateKeyAsync("""{"name":"expired","credit_usd":1,"expires_at":"2020-01-01T00:00:00Z"}""");
        var refused = await LedgerClient.ChatAsync(_client, expired.Secret, Body("priced", user));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Contains("expired", LedgerClient.ErrorOf(refused.Body).GetProperty("message").GetString());

        // A live key made to expire now is refused from then on.
        var live = await _ledger.CreateKeyAsync("""{"name":"live","credit_usd":1,"expires_at":"2999-01-01T00:00:00Z"}""");
        Assert.Equal(HttpStatusCode.OK, (await LedgerClient.ChatAsync(_client, live.Secret, Body("priced", user))).Status);
        await _ledger.ChangeAsync(live.Id, """{"expires_at":"2021-06-01T00:00:00Z"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, (await LedgerClient.ChatAsync(_client, live.Secret, Body("priced", user))).Status);
        Assert.Equal(1, fixture.Upstream.Calls("upstream-ok", user));
    }

    [Fact]
    public async Task AllowList_ModelOutside_404AsIfItDidNotExist()
    {
        var user = "allow-" + Guid.NewGuid().ToString("N");
        var key = await _ledger.CreateKeyAsync("""{"name":"allow","credit_usd":1,"models":["priced"]}""");
        Assert.Equal(HttpStatusCode.OK, (await LedgerClient.ChatAsync(_client, key.Secret, Body("priced", user))).Status);

        var outside = await LedgerClient.ChatAsync(_client, key.Secret, Body("other", user));
        var missing = await LedgerClient.ChatAsync(_client, key.Secret, Body("no-such-model", user));
        Assert.Equal(HttpStatusCode.NotFound, outside.Status);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        var error = LedgerClient.ErrorOf(outside.Body);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal(LedgerClient.ErrorOf(missing.Body).GetProperty("type").GetString(), error.GetProperty("type").GetString());
        Assert.Contains("does not exist", error.GetProperty("message").GetString());
        Assert.Equal(1, fixture.Upstream.Calls("upstream-ok", user));
    }

    [Fact]
    public async Task AllowList_ModelOutsideAndUnknownModel_SameAnswerAndNoOutsideModelSuggested()
    {
        // "A model outside the key's allow-list is 404 as if it did not exist": the same words as for a model nobody
        // configured, and the "closest configured models" of either name only what the key may use.
        var user = "allow-leak-" + Guid.NewGuid().ToString("N");
        var key = await _ledger.CreateKeyAsync("""{"name":"allow-leak","credit_usd":1,"models":["priced"]}""");

        var outside = await LedgerClient.ChatAsync(_client, key.Secret, Body("other", user));
        var missing = await LedgerClient.ChatAsync(_client, key.Secret, Body("zzzzz", user));
        var typo = await LedgerClient.ChatAsync(_client, key.Secret, Body("othe", user));
        Assert.Equal(HttpStatusCode.NotFound, outside.Status);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.NotFound, typo.Status);

        var outsideMessage = LedgerClient.ErrorOf(outside.Body).GetProperty("message").GetString()!;
        var missingMessage = LedgerClient.ErrorOf(missing.Body).GetProperty("message").GetString()!;
        Assert.Equal(missingMessage.Replace("'zzzzz'", "'M'"), outsideMessage.Replace("'other'", "'M'"));
        var typoMessage = LedgerClient.ErrorOf(typo.Body).GetProperty("message").GetString()!;
        Assert.DoesNotContain("other", typoMessage);
        Assert.DoesNotContain("slow", typoMessage);
        Assert.Equal(0, fixture.Upstream.Calls("upstream-ok", user));

        // GET /v1/models/{id} answers alike: a model outside the allow-list is not there.
        using var models = fixture.Relay.Client(key.Secret);
        using var retrieved = await models.GetAsync("/v1/models/priced");
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        using var hidden = await models.GetAsync("/v1/models/other");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(outsideMessage, LedgerClient.ErrorOf(await hidden.Content.ReadAsStringAsync()).GetProperty("message").GetString());

        // And /v1/messages/count_tokens: the allow-list's model counts, the others are the same 404.
        async Task<(HttpStatusCode Status, string Body)> CountAsync(string model)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages/count_tokens")
            {
                Content = new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("x-api-key", key.Secret);
            using var response = await _client.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await CountAsync("priced")).Status);
        var countOutside = await CountAsync("other");
        var countMissing = await CountAsync("zzzzz");
        Assert.Equal(HttpStatusCode.NotFound, countOutside.Status);
        Assert.Equal(HttpStatusCode.NotFound, countMissing.Status);
        Assert.Equal(countMissing.Body.Replace("zzzzz", "M"), countOutside.Body.Replace("other", "M"));
    }

    private async Task<HttpResponseMessage> SendAsync(string key, string body, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", key);
        return await _client.SendAsync(request, option);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no {name} header");

    public void Dispose()
    {
        _ledger.Dispose();
        _client.Dispose();
    }
}
