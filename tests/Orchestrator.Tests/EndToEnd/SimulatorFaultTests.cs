using System.Net;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

[Collection(RelayCollection.Name)]
public sealed class SimulatorFaultTests(RelayFixture fixture)
{
    private static HttpRequestMessage Post(string fault) => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Content = new StringContent("""{"model":"sim","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"),
        Headers = { { "x-simulator-fault", fault } },
    };

    [Fact]
    public async Task FaultHeader_Invalid_Returns400NamingTheHeaderAndKey()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post("status=503;drop-after=lots"));
        var error = await ChatCompletionsTests.ErrorOf(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("x-simulator-fault", error.GetProperty("param").GetString());
        Assert.Equal("invalid_fault_plan", error.GetProperty("code").GetString());
        Assert.Contains("drop-after", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task FaultHeader_Status400_IsReturnedAsTheSimulatedCallerFault()
    {
        using var client = fixture.Relay.Client();
        using var response = await client.SendAsync(Post("status=400; code=context_length_exceeded"));
        var error = await ChatCompletionsTests.ErrorOf(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Simulated fault: the provider refused the request (HTTP 400).", error.GetProperty("message").GetString());
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
    }

    private async Task<string> StreamAsync(string? fault)
    {
        using var client = fixture.Relay.Client();
        using var request = Post(fault ?? "");
        if (fault is null) request.Headers.Remove("x-simulator-fault");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Theory]
    [InlineData("drop-after=5")]           // reset mid-stream
    [InlineData("eof-after=5")]            // clean end without a finish_reason
    [InlineData("status=503")]             // refused before anything was sent: retried
    [InlineData("status=429;retry-after-ms=50")]
    public async Task Fault_OnTheFirstAttempt_ClientStillGetsTheWholeAnswer(string fault)
    {
        var expected = Sse.Text(Sse.DataLines(await StreamAsync(null)));
        var body = await StreamAsync(fault);
        Assert.Equal(expected, Sse.Text(Sse.DataLines(body)));
        Assert.EndsWith("data: [DONE]\n\n", body);
    }

    [Fact]
    public async Task Fault_OnEveryAttempt_EndsWithAnErrorEventAndNoDone()
    {
        var body = await StreamAsync("drop-after=5;times=all");
        var lines = Sse.DataLines(body);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("\"error\"", lines[^1]);
        Assert.Equal(5, Sse.Text(lines.Take(lines.Count - 1)).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
