using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Http;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// <c>/admin/*</c> and <c>GET /v1/providers</c> over real sockets: absent without admin keys, 401 for anyone without
/// one (a client key included), whether or not the path exists.
/// </summary>
[Collection(RelayCollection.Name)]
public sealed class AdminAccessTests(RelayFixture fixture)
{
    private static readonly HttpMethod[] Methods = [HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete, HttpMethod.Patch];

    private static async Task<(HttpStatusCode Status, JsonElement Error, string Raw)> SendAsync(Uri baseUrl, HttpMethod method, string path, string? authorization)
    {
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, path);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await client.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(raw).RootElement.TryGetProperty("error", out var e) ? e.Clone() : default;
        return (response.StatusCode, error, raw);
    }

    [Fact]
    public async Task Admin_NoAdminKeyConfigured_EveryPathAndMethodIs404LikeAnUnknownPath()
    {
        await using var relay = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
            }
            """);
        foreach (var path in new[] { "/admin", "/admin/", "/admin/keys", "/admin/keys/key_1/credit", "/admin/whatever" })
        foreach (var method in Methods)
        foreach (var authorization in new[] { null, "Bearer sk-test-client", "Bearer sk-anything" })
        {
            var (status, error, _) = await SendAsync(relay.BaseUrl, method, path, authorization);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("unknown_url", error.GetProperty("code").GetString());
            Assert.Equal($"Unknown request URL: {method.Method} {path}.", error.GetProperty("message").GetString());
        }
        var unknown = await SendAsync(relay.BaseUrl, HttpMethod.Get, "/not-admin", null);   // the same shape as any unknown path
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal("unknown_url", unknown.Error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(null, "didn't provide an API key")]
    [InlineData("Bearer sk-wrong", "Incorrect API key")]
    [InlineData("Bearer " + RelayFixture.ClientKey, "Incorrect API key")]   // a client key is refused like any wrong key
    [InlineData(RelayFixture.AdminKey, "'Bearer ' prefix is missing")]
    public async Task Admin_UnknownPathWithoutAnAdminKey_Is401NotRevealingWhetherItExists(string? authorization, string expected)
    {
        foreach (var method in Methods)
        {
            var (status, error, raw) = await SendAsync(fixture.Relay.BaseUrl, method, "/admin/whatever", authorization);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Contains(expected, error.GetProperty("message").GetString());
            Assert.DoesNotContain(RelayFixture.ClientKey, raw);
            Assert.DoesNotContain(RelayFixture.AdminKey, raw);
        }
    }

    [Fact]
    public async Task Admin_UnknownPathWithTheAdminKey_Is404()
    {
        foreach (var path in new[] { "/admin", "/admin/whatever", "/admin/keys/x/y/z" })
        {
            var (status, error, _) = await SendAsync(fixture.Relay.BaseUrl, HttpMethod.Get, path, "Bearer " + RelayFixture.AdminKey);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("unknown_url", error.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task AdminKey_IsNotAClientKey()
    {
        using var client = fixture.Relay.Client(RelayFixture.AdminKey);
        using var response = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    /// <summary>The group as the ledger's endpoints will use it: mapped endpoints behind the key, other methods and paths hidden.</summary>
    [Fact]
    public async Task AdminGroup_MappedEndpoint_AnswersOnlyAnAdminAndHidesOtherMethods()
    {
        var settings = TestSettings.From("""orchestrator { auth.keys = ["sk-client"], admin.keys = ["sk-admin-1", "sk-admin-2"] }""");
        var (app, url) = await LoopbackApp.StartAsync(app => app.MapAdminGroup().MapGet("/keys", (HttpContext http) =>
            Results.Json(new { admin = AdminKeyFilter.IsAdmin(http, http.RequestServices.GetRequiredService<Actors.Settings.OrchestratorSettings>()) })),
            services => services.AddSingleton(settings));
        try
        {
            using var client = new HttpClient { BaseAddress = url };
            foreach (var key in new[] { "sk-admin-1", "sk-admin-2" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/keys") { Headers = { { "Authorization", "Bearer " + key } } };
                using var response = await client.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("""{"admin":true}""", await response.Content.ReadAsStringAsync());
            }
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(url, HttpMethod.Get, "/admin/keys", "Bearer sk-client")).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(url, HttpMethod.Get, "/admin/keys", null)).Status);
            // A method the path does not serve: 404 to an admin, 401 to anyone else (never a 405 that says the path exists).
            Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(url, HttpMethod.Delete, "/admin/keys", "Bearer sk-admin-1")).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(url, HttpMethod.Delete, "/admin/keys", "Bearer sk-client")).Status);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Providers_AdminKey_IsServed()
    {
        using var client = fixture.Relay.Client(RelayFixture.AdminKey);
        using var response = await client.GetAsync("/v1/providers");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("object").GetString());
    }

    [Theory]
    [InlineData("Bearer " + RelayFixture.ClientKey, "A client key cannot read provider status")]
    [InlineData("Bearer sk-test-second", "needs an admin key")]
    [InlineData("Bearer sk-wrong", "Incorrect API key")]
    [InlineData(null, "didn't provide an API key")]
    public async Task Providers_WithoutAnAdminKey_Is401SayingAnAdminKeyIsNeeded(string? authorization, string expected)
    {
        var (status, error, raw) = await SendAsync(fixture.Relay.BaseUrl, HttpMethod.Get, "/v1/providers", authorization);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains(expected, message);
        Assert.Contains("admin key", message);
        Assert.DoesNotContain("fake", raw);   // nothing of the status itself
    }

    [Fact]
    public async Task Providers_PublicStatusOn_IsServedToAnyone()
    {
        await using var relay = await RelayHost.StartAsync("""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["sk-test-client"]
              http.public-status = on
            }
            """);
        var (status, _, raw) = await SendAsync(relay.BaseUrl, HttpMethod.Get, "/v1/providers", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"simulator\"", raw);
    }
}
