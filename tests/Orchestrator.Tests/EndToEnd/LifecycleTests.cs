using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>Retries, fallback on each failure kind, end-of-stream rules, resume and keep-alive, over loopback.</summary>
[Collection(RelayCollection.Name)]
public sealed class LifecycleTests(RelayFixture fixture)
{
    private static StringContent Body(string model, bool stream = true, string? user = null, string extra = "") => new(
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"user":"{{user ?? Guid.NewGuid().ToString("N")}}","messages":[{"role":"user","content":"Say hello"}]{{extra}}}""",
        Encoding.UTF8, "application/json");

    private async Task<(HttpResponseMessage Response, string Body)> PostAsync(string model, bool stream = true, string? user = null, string extra = "")
    {
        using var client = fixture.Relay.Client();
        var response = await client.PostAsync("/v1/chat/completions", Body(model, stream, user, extra));
        return (response, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Last(IReadOnlyList<string> lines, Func<JsonElement, bool> where)
    {
        foreach (var line in lines.Reverse().Where(l => l != "[DONE]"))
        {
            using var doc = JsonDocument.Parse(line);
            if (where(doc.RootElement)) return doc.RootElement.Clone();
        }
        throw new Xunit.Sdk.XunitException("no such event");
    }

    private static bool HasFinish(JsonElement chunk) =>
        chunk.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0 && choices[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String;

    [Fact]
    public async Task Stream_FinishReasonWithoutDone_IsCompleteAndGetsDone()
    {
        var (response, body) = await PostAsync("no-done");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(Sse.DataLines(body)));
        Assert.EndsWith("data: [DONE]\n\n", body);
    }

    [Fact]
    public async Task Stream_UpstreamHeldOpenAfterFinish_EndsAtOnceAndClosesTheUpstream()
    {
        var user = Guid.NewGuid().ToString("N");
        var clock = Stopwatch.StartNew();
        var (_, body) = await PostAsync("finish-hang", user: user);
        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");   // the upstream holds for 10 s
        // Completes only when the relay closed this request's upstream while it was held open (not when the 10 s ran out).
        await fixture.Upstream.ClosedByRelay(user).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ServerErrorOnce_IsRetriedOnTheSameRoute()
    {
        var user = Guid.NewGuid().ToString("N");
        var (response, body) = await PostAsync("retry-500", user: user);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(Sse.DataLines(body)));
        Assert.Equal(2, fixture.Upstream.Calls("500-once", user));
    }

    [Fact]
    public async Task RateLimitedOnce_WaitsForRetryAfterThenSucceeds()
    {
        var user = Guid.NewGuid().ToString("N");
        var clock = Stopwatch.StartNew();
        var (response, body) = await PostAsync("retry-429", stream: false, user: user);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(FakeUpstream.Answer, body);
        Assert.Equal(2, fixture.Upstream.Calls("429-once", user));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(300), $"retried after {clock.Elapsed}, before retry-after-ms");
    }

    [Fact]
    public async Task NoHeadersInTime_FallsBackToTheNextRouteWithoutRetrying()
    {
        var user = Guid.NewGuid().ToString("N");
        var (response, body) = await PostAsync("slow-headers", user: user);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(Sse.DataLines(body)));
        Assert.Equal(1, fixture.Upstream.Calls("slow-headers", user));
    }

    [Fact]
    public async Task ContextLengthExceeded_GoesToTheLargeContextRoute()
    {
        var (response, body) = await PostAsync("long-context", stream: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(FakeUpstream.Answer, body);
    }

    [Fact]
    public async Task NoFirstTokenInTime_FallsBackToTheNextRoute()
    {
        var (response, body) = await PostAsync("first-token");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(Sse.DataLines(body)));
        Assert.EndsWith("data: [DONE]\n\n", body);
    }

    [Theory]
    [InlineData("resume")]         // EOF without a finish_reason
    [InlineData("resume-reset")]   // the connection reset mid-stream
    [InlineData("resume-idle")]    // the upstream went quiet past idle-timeout
    public async Task StreamCutMidway_IsResumedByReplayIntoOneWholeAnswer(string model)
    {
        var user = Guid.NewGuid().ToString("N");
        using var client = fixture.Relay.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(model, user: user) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var read = new StringBuilder();
        // The cut comes after two tokens; once the client holds both, the reset may happen (the other cuts do not wait).
        while (Sse.Text(Sse.DataLines(read.ToString())) != "Hello,")
            read.AppendLine(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)) ?? throw new Xunit.Sdk.XunitException($"ended early: {read}"));
        fixture.Upstream.OpenResetGate(user);
        read.Append(await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        var body = read.ToString();
        var lines = Sse.DataLines(body);

        Assert.Equal(FakeUpstream.Answer, Sse.Text(lines));
        Assert.EndsWith("data: [DONE]\n\n", body);
        var chunks = lines.Where(l => l != "[DONE]").Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());   // one completion id throughout
        Assert.Single(chunks, c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("role", out _));
        // Text had reached the client, so this was a resume (not a retry), by replay.
        var mark = Last(lines, HasFinish).GetProperty("orchestrator");
        Assert.Equal(1, mark.GetProperty("resumed").GetInt32());
        Assert.Equal("replay", mark.GetProperty("strategies")[0].GetString());
    }

    [Fact]
    public async Task StreamCutMidway_PrefillRoute_ContinuesFromTheTextSoFar()
    {
        var user = Guid.NewGuid().ToString("N");
        var (_, body) = await PostAsync("resume-prefill", user: user);
        var lines = Sse.DataLines(body);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(lines));
        Assert.Equal("prefill", Last(lines, HasFinish).GetProperty("orchestrator").GetProperty("strategies")[0].GetString());
        // This request's prefill attempt (by its "user"), not any earlier test's.
        var prefill = Assert.Single(fixture.Upstream.Requests, r =>
            r.Body.GetProperty("model").GetString() == "prefill-ok" && r.Body.GetProperty("user").GetString() == user);
        Assert.Equal("Hello,", prefill.Body.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString());
    }

    [Fact]
    public async Task StreamCutMidway_RouteRefusesPrefill_FallsToReplayAndTheClientNeverSeesTheRefusal()
    {
        var (_, body) = await PostAsync("prefill-refused");
        var lines = Sse.DataLines(body);
        Assert.Equal(FakeUpstream.Answer, Sse.Text(lines));
        Assert.DoesNotContain("prefill", Sse.Text(lines));
        Assert.Equal("replay", Last(lines, HasFinish).GetProperty("orchestrator").GetProperty("strategies")[0].GetString());
    }

    [Fact]
    public async Task StreamCutMidway_EveryResumeFails_ErrorEventWithTheOriginalFailureAndNoDone()
    {
        var (response, body) = await PostAsync("resume-diverge");
        var lines = Sse.DataLines(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Equal("Hello,", Sse.Text(lines.Take(lines.Count - 1)));
        var error = JsonDocument.Parse(lines[^1]).RootElement.GetProperty("error");
        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
        Assert.Contains("finish_reason", error.GetProperty("message").GetString());   // the cut, not the divergence
    }

    [Fact]
    public async Task StreamCutMidway_ResumeOff_ErrorEventWithinASecondAndNoDone()
    {
        var clock = Stopwatch.StartNew();
        var (_, body) = await PostAsync("resume-off");
        var lines = Sse.DataLines(body);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.DoesNotContain("[DONE]", body);
        Assert.Equal("Hello,", Sse.Text(lines.Take(lines.Count - 1)));
        Assert.Equal("upstream_error", JsonDocument.Parse(lines[^1]).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task SilentStream_GetsKeepAliveComments()
    {
        var (response, body) = await PostAsync("slow-sim");   // 700 ms between tokens, heartbeat 250 ms
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(": keep-alive\n\n", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.Equal(2, Sse.Text(Sse.DataLines(body)).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task StreamFailingBeforeAnyEvent_GetsARealHttpStatus()
    {
        var (response, body) = await PostAsync("no-provider");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no_provider_available", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Providers_ReportStateAndCounters()
    {
        await PostAsync("retry-500");
        using var client = fixture.Relay.Client(RelayFixture.AdminKey);
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/providers"));
        var providers = doc.RootElement.GetProperty("data").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);

        // The shipped providers are there too (a config adds to them).
        Assert.Equal(["anthropic", "dead", "deepseek", "fake", "fake2", "gemini", "nokey", "openai", "sim", "simulator", "slowsim"], providers.Keys.Order());
        var fake = providers["fake"];
        Assert.Contains(fake.GetProperty("state").GetString(), new[] { "healthy", "degraded" });
        Assert.True(fake.GetProperty("counters").GetProperty("retries").GetInt64() >= 1);
        Assert.True(fake.GetProperty("counters").GetProperty("requests").GetInt64() >= 2);
        Assert.Equal("openai", fake.GetProperty("kind").GetString());
        // Routing skips a provider without a key, and its status says so rather than "healthy".
        Assert.Equal("no key", providers["nokey"].GetProperty("state").GetString());
        Assert.Equal("no api-key is configured", providers["nokey"].GetProperty("last_error").GetString());
        Assert.DoesNotContain(RelayFixture.UpstreamKey, doc.RootElement.GetRawText());
        var simCheck = providers["sim"].GetProperty("last_health_check");   // the simulator is probed (first after 1 s)
        Assert.True(simCheck.ValueKind == JsonValueKind.Null || simCheck.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Providers_WithoutAKey_Returns401()
    {
        using var client = fixture.Relay.Client(key: null);
        using var response = await client.GetAsync("/v1/providers");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
