using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// The bytes of the Gemini front (<c>/v1beta/models/{model}:method</c>) on the wire, over a real socket, translated
/// for the shared relay's routes (the simulator, the fake OpenAI provider).
/// </summary>
[Collection(RelayCollection.Name)]
public sealed class GeminiFrontTests(RelayFixture fixture)
{
    private const string Hello = """{"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]}""";

    private static HttpRequestMessage Post(string path, string body = Hello, string? fault = null, string? key = RelayFixture.ClientKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Add("x-goog-api-key", key);
        if (fault is not null) request.Headers.Add("x-simulator-fault", fault);
        return request;
    }

    private HttpClient Client() => fixture.Relay.Client(key: null);

    /// <summary>Google's error: <c>{"error":{"code","message","status"}}</c>, the code the HTTP status.</summary>
    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((int)response.StatusCode, error.GetProperty("code").GetInt32());
        return error;
    }

    /// <summary>The responses of an SSE stream, read as the google-genai SDK reads them: every byte must be consumed.</summary>
    private static List<JsonElement> Sse(string body)
    {
        var responseLine = new Regex(@"^\s*data: ([^\n\r\u2028\u2029]*)(?:\n\n|\r\r|\r\n\r\n)");
        var responses = new List<JsonElement>();
        for (var match = responseLine.Match(body); match.Success; match = responseLine.Match(body))
        {
            responses.Add(JsonDocument.Parse(match.Groups[1].Value).RootElement);
            body = body[match.Length..];
        }
        Assert.True(body.Trim().Length == 0, $"left unread: {body}");
        return responses;
    }

    private static string Text(IEnumerable<JsonElement> responses) => string.Concat(responses
        .SelectMany(r => r.GetProperty("candidates").EnumerateArray())
        .SelectMany(c => c.GetProperty("content").GetProperty("parts").EnumerateArray())
        .Where(p => p.TryGetProperty("text", out _) && !p.TryGetProperty("thought", out _))
        .Select(p => p.GetProperty("text").GetString()));

    private static string? FinishOf(JsonElement response) =>
        response.GetProperty("candidates")[0].TryGetProperty("finishReason", out var finish) ? finish.GetString() : null;

    [Fact]
    public async Task Gemini_StreamedSse_ResponsesThenFinishWithUsage()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/relay:streamGenerateContent?alt=sse"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var responses = Sse(await response.Content.ReadAsStringAsync());
        Assert.Equal(FakeUpstream.Answer, Text(responses));
        Assert.All(responses[..^1], r => Assert.Null(FinishOf(r)));
        Assert.Equal("STOP", FinishOf(responses[^1]));
        var usage = responses[^1].GetProperty("usageMetadata");
        Assert.True(usage.GetProperty("totalTokenCount").GetInt32() > 0);
        Assert.All(responses, r => Assert.Equal("relay", r.GetProperty("modelVersion").GetString()));
    }

    [Fact]
    public async Task Gemini_SlowStream_KeepAlivesReadAsNothing()
    {
        // 700 ms a token against a 250 ms heartbeat: keep-alives go between the responses.
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/slow-sim:streamGenerateContent?alt=sse"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\n\n\n", body.Replace("\r", ""));
        Assert.DoesNotContain(": keep-alive", body);
        var responses = Sse(body);
        Assert.Equal("STOP", FinishOf(responses[^1]));
    }

    [Fact]
    public async Task Gemini_StreamedWithoutAltSse_OneJsonArray()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/relay:streamGenerateContent"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var array = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(JsonValueKind.Array, array.ValueKind);
        Assert.Equal(FakeUpstream.Answer, Text(array.EnumerateArray()));
        Assert.Equal("STOP", FinishOf(array[array.GetArrayLength() - 1]));
    }

    [Fact]
    public async Task Gemini_NotStreamed_OneGenerateContentResponse()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/relay:generateContent"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(FakeUpstream.Answer, Text([root]));
        Assert.Equal("STOP", FinishOf(root));
        Assert.Equal("model", root.GetProperty("candidates")[0].GetProperty("content").GetProperty("role").GetString());
        Assert.True(root.GetProperty("usageMetadata").GetProperty("promptTokenCount").GetInt32() > 0);
    }

    [Fact]
    public async Task Gemini_V1Spelling_AnswersToo()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1/models/sim:generateContent"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("STOP", FinishOf(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement));
    }

    [Fact]
    public async Task Gemini_StreamedToolCall_OneFunctionCallPart()
    {
        const string body = """
            {"contents":[{"role":"user","parts":[{"text":"What time is it?"}]}],
             "tools":[{"functionDeclarations":[{"name":"now","description":"The time","parameters":{"type":"OBJECT","properties":{}}}]}],
             "toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}
            """;
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:streamGenerateContent?alt=sse", body));
        var responses = Sse(await response.Content.ReadAsStringAsync());
        var calls = responses.SelectMany(r => r.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts").EnumerateArray())
            .Where(p => p.TryGetProperty("functionCall", out _)).ToArray();
        var call = Assert.Single(calls).GetProperty("functionCall");
        Assert.Equal("now", call.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, call.GetProperty("args").ValueKind);
        Assert.Equal("STOP", FinishOf(responses[^1]));
    }

    [Fact]
    public async Task Gemini_FieldsTheTranslationCannotCarry_NamedInDroppedHeader()
    {
        const string body = """
            {"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],
             "tools":[{"googleSearch":{}}],"generationConfig":{"topK":40}}
            """;
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:generateContent", body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tools[0]:googleSearch, generationConfig.topK, safetySettings", response.Headers.GetValues("x-orchestrator-dropped").Single());
    }

    [Fact]
    public async Task Gemini_UnknownFieldNamedLikeAHeader_AnsweredWithASafeDroppedHeader()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}],"é\r\nx-evil: 1":true}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("???x-evil:?1", response.Headers.GetValues("x-orchestrator-dropped").Single());
        Assert.False(response.Headers.Contains("x-evil"));
    }

    [Fact]
    public async Task Gemini_FailureAfterTheStreamStarted_ErrorEventAndNoFinish()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:streamGenerateContent?alt=sse", fault: "drop-after=3;times=all"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var responses = Sse(await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(responses, r => r.TryGetProperty("candidates", out _) && FinishOf(r) is not null);
        var error = responses[^1].GetProperty("error");
        Assert.InRange(error.GetProperty("code").GetInt32(), 500, 599);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Gemini_FailureBeforeAnything_GoogleErrorWithItsStatus()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/all-fail:streamGenerateContent?alt=sse"));
        Assert.InRange((int)response.StatusCode, 500, 599);
        var error = await ErrorOf(response);
        Assert.Equal(Orchestrator.Actors.Fronts.Gemini.GeminiFrontErrors.StatusOf((int)response.StatusCode), error.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Gemini_UnknownModel_Is404NamingIt()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/nope-9.9-model:generateContent"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("NOT_FOUND", error.GetProperty("status").GetString());
        Assert.Contains("nope-9.9-model", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Gemini_UnknownMethod_Is404()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:embedContent"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NOT_FOUND", (await ErrorOf(response)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("{not json", "We could not parse the JSON body")]
    [InlineData("""{"contents":[]}""", "contents is not specified")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}}""", "generationConfig.temperature")]
    public async Task Gemini_InvalidBody_Is400InvalidArgument(string body, string message)
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:generateContent", body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("INVALID_ARGUMENT", error.GetProperty("status").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    public async Task Gemini_MissingOrWrongKey_Is401Unauthenticated(string? key)
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:generateContent", key: key));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("UNAUTHENTICATED", error.GetProperty("status").GetString());
        if (key is not null) Assert.DoesNotContain(key, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Gemini_KeyInQueryOrBearer_Accepted()
    {
        using var client = Client();
        using (var byQuery = await client.SendAsync(Post($"/v1beta/models/sim:generateContent?key={RelayFixture.ClientKey}", key: null)))
            Assert.Equal(HttpStatusCode.OK, byQuery.StatusCode);
        using var bearer = Post("/v1beta/models/sim:generateContent", key: null);
        bearer.Headers.Authorization = new("Bearer", RelayFixture.ClientKey);
        using var byBearer = await client.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.OK, byBearer.StatusCode);
    }

    [Fact]
    public async Task Gemini_LedgerKey_BilledAndHeldToItsModels()
    {
        using var ledger = new LedgerClient(fixture.Relay.BaseUrl, RelayFixture.AdminKey);
        var key = await ledger.CreateKeyAsync("""{"name":"gemini-front","credit_usd":1,"models":["sim"]}""");
        using var client = Client();

        using (var answered = await client.SendAsync(Post("/v1beta/models/sim:streamGenerateContent?alt=sse", key: key.Secret)))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.Equal("STOP", FinishOf(Sse(await answered.Content.ReadAsStringAsync())[^1]));
        }
        await Eventually.AssertAsync(async () => Assert.Single(await ledger.UsageAsync(key.Id)), TimeSpan.FromSeconds(10));

        // A model outside its allow-list does not exist for it.
        using (var other = await client.SendAsync(Post("/v1beta/models/relay:generateContent", key: key.Secret)))
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using var list = new HttpRequestMessage(HttpMethod.Get, "/v1beta/models");
        list.Headers.Add("x-goog-api-key", key.Secret);
        using var models = await client.SendAsync(list);
        var names = JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString());
        Assert.Equal(["models/sim"], names);
    }

    [Fact]
    public async Task CountTokens_AnswersAnEstimateLabelledAsSuch()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/sim:countTokens",
            """{"contents":[{"role":"user","parts":[{"text":"Count these words for me please"}]}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-orchestrator-estimate").Single());
        Assert.InRange(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("totalTokens").GetInt32(), 5, 20);

        using var wrapped = await client.SendAsync(Post("/v1beta/models/sim:countTokens",
            """{"generateContentRequest":{"model":"models/sim","contents":[{"parts":[{"text":"Count these words for me please"}]}]}}"""));
        Assert.Equal(HttpStatusCode.OK, wrapped.StatusCode);
    }

    [Fact]
    public async Task CountTokens_UnknownModel_Is404()
    {
        using var client = Client();
        using var response = await client.SendAsync(Post("/v1beta/models/nope:countTokens"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nope", (await ErrorOf(response)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Models_ListedAndRetrievedInGooglesShape()
    {
        using var client = Client();
        client.DefaultRequestHeaders.Add("x-goog-api-key", RelayFixture.ClientKey);
        var list = JsonDocument.Parse(await client.GetStringAsync("/v1beta/models")).RootElement.GetProperty("models");
        var sim = Assert.Single(list.EnumerateArray(), m => m.GetProperty("name").GetString() == "models/sim");
        Assert.Equal(["generateContent", "streamGenerateContent", "countTokens"], sim.GetProperty("supportedGenerationMethods").EnumerateArray().Select(m => m.GetString()!));
        Assert.Equal("sim", sim.GetProperty("displayName").GetString());

        var one = JsonDocument.Parse(await client.GetStringAsync("/v1beta/models/sim")).RootElement;
        Assert.Equal("models/sim", one.GetProperty("name").GetString());
        using var missing = await client.GetAsync("/v1beta/models/nope-1.5");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("NOT_FOUND", (await ErrorOf(missing)).GetProperty("status").GetString());
    }
}

/// <summary>
/// The Gemini front to a gemini-kind route: the caller's body goes up as written (the fake Gemini refuses any field
/// it does not know, at every level), to the route's model, with the provider's key instead of the caller's.
/// </summary>
public sealed class GeminiFrontNativeTests(GeminiRelayFixture fixture) : IClassFixture<GeminiRelayFixture>
{
    [Fact]
    public async Task Gemini_NativeRoute_BodyGoesUpAsWrittenWithTheProvidersKey()
    {
        const string body = """
            {"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"systemInstruction":{"role":"user","parts":[{"text":"Be brief."}]},
             "safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"generationConfig":{"topK":40,"temperature":0.5}}
            """;
        using var client = fixture.Relay.Client(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/g-text:streamGenerateContent?alt=sse") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-goog-api-key", GeminiRelayFixture.ClientKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.False(response.Headers.Contains("x-orchestrator-dropped"));   // nothing was dropped for a native upstream
        Assert.Matches("\"finishReason\": ?\"STOP\"", text);   // the upstream's own responses, as it wrote them

        var seen = fixture.Gemini.Requests.Last(r => r.Body.TryGetProperty("safetySettings", out _));
        Assert.Equal("/v1beta/models/gemini-text:streamGenerateContent", seen.Path);
        Assert.Equal(FakeGemini.ApiKey, seen.ApiKey);
        using var sent = JsonDocument.Parse(body);
        Assert.Equal(sent.RootElement.GetRawText().Replace("\n", "").Replace(" ", ""), seen.Body.GetRawText().Replace("\n", "").Replace(" ", ""));
    }

    private async Task<string> PostAsync(string path, string body)
    {
        using var client = fixture.Relay.Client(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-goog-api-key", GeminiRelayFixture.ClientKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return text;
    }

    // Events end with CRLF CRLF from our encoder, and as the upstream ended them on a native route (LF LF here).
    private static JsonElement[] Parts(string sse) => [.. System.Text.RegularExpressions.Regex.Split(sse, "\r\n\r\n|\n\n").Where(e => e.Length > 0)
        .Where(e => e.TrimStart().StartsWith("data: "))
        .SelectMany(e => JsonDocument.Parse(e.TrimStart()["data: ".Length..]).RootElement.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts").EnumerateArray())];

    [Fact]
    public async Task Gemini_NativeToolCalls_ComeBackWithTheirThoughtSignature()
    {
        const string body = """
            {"contents":[{"role":"user","parts":[{"text":"Weather and time in Oslo?"}]}],
             "tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"},"unit":{"type":"STRING"}}}},{"name":"get_time"}]}]}
            """;
        var parts = Parts(await PostAsync("/v1beta/models/g-tools:streamGenerateContent?alt=sse", body));
        Assert.Equal("Checking both.", parts[0].GetProperty("text").GetString());
        var calls = parts.Where(p => p.TryGetProperty("functionCall", out _)).ToArray();
        Assert.Equal(2, calls.Length);
        var args = calls[0].GetProperty("functionCall").GetProperty("args");   // the upstream's own bytes: compare values
        Assert.Equal(("Oslo", "celsius"), (args.GetProperty("city").GetString(), args.GetProperty("unit").GetString()));
        Assert.Equal(GeminiRecordings.ToolSignature, calls[0].GetProperty("thoughtSignature").GetString());
        Assert.Equal("get_time", calls[1].GetProperty("functionCall").GetProperty("name").GetString());
        Assert.False(calls[1].TryGetProperty("thoughtSignature", out _));
    }

    [Fact]
    public async Task Gemini_NativeThinking_ThoughtPartsAndTheClosingSignature()
    {
        var parts = Parts(await PostAsync("/v1beta/models/g-thinking:streamGenerateContent?alt=sse", """{"contents":[{"role":"user","parts":[{"text":"6 x 7?"}]}]}"""));
        Assert.True(parts[0].GetProperty("thought").GetBoolean());
        Assert.Equal("The answer is 42.", string.Concat(parts.Where(p => !p.TryGetProperty("thought", out _)).Select(p => p.GetProperty("text").GetString())));
        Assert.Equal(GeminiRecordings.TextSignature, Assert.Single(parts, p => p.TryGetProperty("thoughtSignature", out _)).GetProperty("thoughtSignature").GetString());

        var whole = JsonDocument.Parse(await PostAsync("/v1beta/models/g-thinking:generateContent", """{"contents":[{"role":"user","parts":[{"text":"6 x 7?"}]}]}""")).RootElement;
        var wholeParts = whole.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts");
        Assert.True(wholeParts[0].GetProperty("thought").GetBoolean());
        Assert.Equal(GeminiRecordings.TextSignature, wholeParts[1].GetProperty("thoughtSignature").GetString());
        Assert.True(whole.GetProperty("usageMetadata").GetProperty("thoughtsTokenCount").GetInt32() > 0);
    }

    [Fact]
    public async Task Gemini_NativeRoute_NotStreamed()
    {
        using var client = fixture.Relay.Client(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/g-text:generateContent?key={GeminiRelayFixture.ClientKey}")
        {
            Content = new StringContent("""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("STOP", root.GetProperty("candidates")[0].GetProperty("finishReason").GetString());
        Assert.DoesNotContain(fixture.Gemini.Requests, r => r.Query.Contains(GeminiRelayFixture.ClientKey));
    }
}
