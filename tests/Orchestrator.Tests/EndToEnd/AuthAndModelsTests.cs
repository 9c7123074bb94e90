using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

[Collection(RelayCollection.Name)]
public sealed class AuthAndModelsTests(RelayFixture fixture)
{
    [Fact]
    public async Task Models_ListsConfiguredIdsInOpenAiShape()
    {
        using var client = fixture.Relay.Client();
        var list = await client.GetFromJsonAsync<JsonElement>("/v1/models");

        Assert.Equal("list", list.GetProperty("object").GetString());
        var ids = list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(["relay", "fallback", "bad-key", "all-fail", "no-provider", "caller-fault", "broken", "endless", "firehose", "sim"], ids.Take(10));   // config order
        Assert.All(list.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task Models_RetrieveOne_TheListsEntry_UnknownIs404ModelNotFoundWithSuggestions()
    {
        using var client = fixture.Relay.Client();
        var listed = (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == "sim");
        var one = await client.GetFromJsonAsync<JsonElement>("/v1/models/sim");
        Assert.Equal(listed.GetRawText(), one.GetRawText());

        using var missing = await client.GetAsync("/v1/models/simm");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var error = await ChatCompletionsTests.ErrorOf(missing);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.StartsWith("The model 'simm' does not exist or is not configured here. Closest configured models: sim,", error.GetProperty("message").GetString());

        using var anonymous = fixture.Relay.Client(key: null);
        using var refused = await anonymous.GetAsync("/v1/models/sim");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task SecondConfiguredKey_IsAccepted()
    {
        using var client = fixture.Relay.Client("sk-test-second");
        using var response = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(null, "didn't provide an API key")]
    [InlineData("sk-test-client", "'Bearer ' prefix is missing")]
    [InlineData("Bearer sk-wrong-key", "Incorrect API key")]
    [InlineData("Basic c2stdGVzdA==", "'Bearer ' prefix is missing")]
    public async Task BadAuthorization_Returns401ExplainingBearerForm(string? header, string expected)
    {
        using var client = fixture.Relay.Client(key: null);
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/v1/models"),
            new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{not json", Encoding.UTF8, "application/json") },
        })
        {
            if (header is not null) request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await client.SendAsync(request);
            var raw = await response.Content.ReadAsStringAsync();
            var error = await ChatCompletionsTests.ErrorOf(response);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);   // auth before the body is even read
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            var message = error.GetProperty("message").GetString()!;
            Assert.Contains(expected, message);
            Assert.Contains("Authorization: Bearer <key>", message);
            Assert.DoesNotContain("sk-wrong-key", raw);
            Assert.DoesNotContain("sk-test-client", raw);
        }
    }
}
