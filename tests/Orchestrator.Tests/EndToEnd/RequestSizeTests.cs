using System.Net;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// <c>http.max-request-bytes</c> (8 MiB by default): a larger body gets 413 <c>request_too_large</c> in the front's
/// own error shape, from Content-Length before any of the body is read, or from Kestrel's limit while reading a
/// chunked one.
/// </summary>
[Collection(RelayCollection.Name)]
public sealed class RequestSizeTests(RelayFixture fixture)
{
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(5);

    private static string Head(string path, string length) =>
        $"POST {path} HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {RelayFixture.ClientKey}\r\n" +
        $"x-api-key: {RelayFixture.ClientKey}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n";

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/responses")]
    public async Task Body_HugeContentLengthNoBody_413AtOnce(string path)
    {
        await using var raw = await RawHttp.ConnectAsync(fixture.Relay.BaseUrl);
        await raw.SendAsync(Head(path, "10000000000"));   // 10 GB announced, not a byte sent

        var response = await raw.ReadResponseAsync(Fast);

        Assert.StartsWith("HTTP/1.1 413", response);
        Assert.Contains("""{"error":{""", response);
        Assert.Contains("\"code\":\"request_too_large\"", response);
        Assert.Contains("8388608", response);
    }

    [Fact]
    public async Task Messages_HugeContentLengthNoBody_413AnthropicShaped()
    {
        await using var raw = await RawHttp.ConnectAsync(fixture.Relay.BaseUrl);
        await raw.SendAsync(Head("/v1/messages", "10000000000"));

        var response = await raw.ReadResponseAsync(Fast);

        Assert.StartsWith("HTTP/1.1 413", response);
        Assert.Contains("\"type\":\"error\"", response);
        Assert.Contains("\"type\":\"request_too_large\"", response);
    }

    [Fact]
    public async Task Body_ContentLengthJustOverTheLimit_ClosesWithoutDraining()
    {
        await using var raw = await RawHttp.ConnectAsync(fixture.Relay.BaseUrl);
        await raw.SendAsync(Head("/v1/chat/completions", "8388609"));

        var response = await raw.ReadUntilClosedAsync(Fast);   // the server ends the socket: nothing left to drain

        Assert.StartsWith("HTTP/1.1 413", response);
        Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Body_ChunkedOverTheLimit_413()
    {
        await using var raw = await RawHttp.ConnectAsync(fixture.Relay.BaseUrl);
        await raw.SendAsync(Head("/v1/chat/completions", "0").Replace("Content-Length: 0", "Transfer-Encoding: chunked"));
        // 9 MiB in 64 KiB chunks, the client not stopping to read; the server may close before it is all sent.
        var chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string('a', 0x10000)}\r\n");
        var sending = Task.Run(async () =>
        {
            try { for (var i = 0; i < 9 * 16; i++) await raw.Stream.WriteAsync(chunk); }
            catch (IOException) { }
        });

        var response = await raw.ReadResponseAsync(TimeSpan.FromSeconds(10));
        await sending;

        Assert.StartsWith("HTTP/1.1 413", response);
        Assert.Contains("\"code\":\"request_too_large\"", response);
    }

    [Fact]
    public async Task Body_JustUnderTheLimit_IsRead()
    {
        var padding = new string('a', 8 * 1024 * 1024 - 200);
        using var client = fixture.Relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions",
            new StringContent($$"""{"model":"sim","messages":[{"role":"user","content":"hi"}],"x_pad":"{{padding}}"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
