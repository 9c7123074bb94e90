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
}
