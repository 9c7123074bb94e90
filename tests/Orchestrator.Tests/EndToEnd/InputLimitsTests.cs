using System.Net;
using System.Text;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// Fields the edge checks before anything reaches an actor: a bad <c>n</c> or an oversized <c>model</c> gets an
/// immediate OpenAI-shaped 400, and no error message quotes back more than a short prefix of what the client sent.
/// </summary>
[Collection(RelayCollection.Name)]
public sealed class InputLimitsTests(RelayFixture fixture)
{
    // Well under http.reply-timeout: a refusal the edge makes must not wait for the engine.
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(5);

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Request(string model, string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Say hello"}]{{extra}}}""";

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string json)
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(json)).WaitAsync(Fast);
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(Fast));
    }

    private async Task<System.Text.Json.JsonElement> ErrorAsync(string json, HttpStatusCode expected)
    {
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", Body(json)).WaitAsync(Fast);
        Assert.Equal(expected, response.StatusCode);
        return await ChatCompletionsTests.ErrorOf(response).WaitAsync(Fast);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1.0")]
    [InlineData("1e2")]
    [InlineData("\"two\"")]
    [InlineData("true")]
    [InlineData("[2]")]
    public async Task N_NotAnInteger_Returns400InvalidType(string n)
    {
        var error = await ErrorAsync(Request("sim", $$""","n":{{n}}"""), HttpStatusCode.BadRequest);

        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_type", error.GetProperty("code").GetString());
        Assert.Equal("n", error.GetProperty("param").GetString());
        Assert.StartsWith("Invalid type for 'n': expected an integer", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("0", "integer_below_min_value")]
    [InlineData("-3", "integer_below_min_value")]
    [InlineData("129", "integer_above_max_value")]
    [InlineData("99999999999999999999999999", "integer_above_max_value")]
    public async Task N_OutOfRange_Returns400NamingTheLimit(string n, string code)
    {
        var error = await ErrorAsync(Request("sim", $$""","n":{{n}}"""), HttpStatusCode.BadRequest);

        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("n", error.GetProperty("param").GetString());
        Assert.StartsWith("Invalid 'n': integer", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("1")]
    [InlineData("2")]
    [InlineData("128")]
    public async Task N_WholeNumberInRange_IsAccepted(string n)
    {
        var (status, body) = await PostAsync(Request("sim", $$""","n":{{n}}"""));
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {body}");
    }

    [Fact]
    public async Task N_Two_IsSentUpstreamAsItCame()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (status, _) = await PostAsync(Request("relay", $$""","n":2,"x_marker":"{{marker}}" """));
        Assert.Equal(HttpStatusCode.OK, status);

        var sent = fixture.Upstream.Requests.Single(r => r.Body.TryGetProperty("x_marker", out var m) && m.GetString() == marker);
        Assert.Equal("2", sent.Body.GetProperty("n").GetRawText());
    }

    [Fact]
    public async Task Model_Over256Chars_Returns400Quickly()
    {
        var error = await ErrorAsync(Request(new string('m', 300)), HttpStatusCode.BadRequest);

        Assert.Equal("string_above_max_length", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Equal("Invalid 'model': string too long. Expected a string with maximum length 256, but got a string with length 300 instead.",
            error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Model_Exactly256Chars_IsLookedUp()
    {
        var error = await ErrorAsync(Request(new string('m', 256)), HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Model_TwoMegabytes_Returns400WithASmallBody()
    {
        var (status, body) = await PostAsync(Request(new string('m', 2 * 1024 * 1024)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"code\":\"string_above_max_length\"", body);
        Assert.True(Encoding.UTF8.GetByteCount(body) < 1024, $"the error body is {body.Length} characters");
    }

    [Fact]
    public async Task UnknownModel_LongId_404QuotesOnlyAPrefix()
    {
        var id = "relay-" + new string('x', 94);
        var error = await ErrorAsync(Request(id), HttpStatusCode.NotFound);
        var message = error.GetProperty("message").GetString()!;

        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.DoesNotContain(id, message);
        Assert.Contains($"'{id[..64]}…'", message);
        Assert.Contains("relay", message[(message.IndexOf('…') + 1)..]);   // "did you mean" still works on a long id
    }

    [Fact]
    public async Task Realtime_BadNAndLongType_ErrorEventsAreShort()
    {
        await using var socket = await TestSocket.ConnectAsync(fixture.Relay.BaseUrl);
        await socket.SendAsync("""{"type":"chat.completions.create","id":"n1","model":"sim","n":1.5,"messages":[{"role":"user","content":"hi"}]}""");
        var badN = (await socket.ReceiveAsync())!.Value.GetProperty("error");
        Assert.Equal("invalid_type", badN.GetProperty("code").GetString());
        Assert.Equal("n", badN.GetProperty("param").GetString());

        var type = "chat.completions." + new string('z', 13_000 - "chat.completions.".Length);
        await socket.SendAsync($$"""{"type":"{{type}}","id":"t1"}""");
        var unknown = (await socket.ReceiveAsync())!.Value.GetProperty("error");
        var message = unknown.GetProperty("message").GetString()!;
        Assert.Equal("unknown_type", unknown.GetProperty("code").GetString());
        Assert.Contains($"'{type[..ApiError.MaxQuotedLength]}…'", message);   // ApiError.Quote: 64 characters and a mark
        Assert.True(message.Length < 200, message);
    }
}
