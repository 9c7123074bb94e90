using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// A first attempt's answer reaches the client as the upstream's own bytes: each event's chunk JSON byte for byte
/// (unknown fields, their order, escapes and spacing included), whatever the upstream's SSE framing and however its
/// writes split the events.
/// </summary>
public sealed class PassThroughTests : IAsyncLifetime
{
    // Odd on purpose: fields out of OpenAI's order, unknown fields at every level, escapes, spaces inside the JSON.
    private static readonly string[] Chunks =
    [
        """{"object":"chat.completion.chunk","id":"chatcmpl-pt","created":1,"model":"m","choices":[{"delta":{"role":"assistant","content":""},"index":0,"finish_reason":null,"logprobs":null}],"x_vendor":{"a":[1,2,{"b":null}]}}""",
        """{"id":"chatcmpl-pt","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"H\u00e9llo \"w\"\n","reasoning_content":"hm"},"finish_reason":null}] , "service_tier" : "default"}""",
        """{"id":"chatcmpl-pt","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp_x","choices":[{"index":0,"delta":{"content":"ö 🎉"},"finish_reason":null}]}""",
        """{"id":"chatcmpl-pt","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}""",
        """{"id":"chatcmpl-pt","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0}}}""",
    ];

    private WebApplication _upstream = null!;
    private RelayHost _relay = null!;

    public async Task InitializeAsync()
    {
        (_upstream, var upstream) = await LoopbackApp.StartAsync(app => app.MapPost("/v1/chat/completions", WriteOddStreamAsync));
        var upstreamUrl = upstream.ToString().TrimEnd('/');
        _relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              auth.keys = ["sk-test-client"]
              providers { odd { kind = openai, base-url = "{{upstreamUrl}}/v1", api-key = "none" } }
              models { "pt" { routes = [ { provider = odd } ] } }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>CRLF line ends, a comment, an event split over two writes mid-JSON and mid-UTF-8, then <c>[DONE]</c>.</summary>
    private static async Task WriteOddStreamAsync(HttpContext http)
    {
        http.Response.ContentType = "text/event-stream";
        var wire = new StringBuilder();
        wire.Append(": hello\r\n\r\n");
        foreach (var chunk in Chunks) wire.Append("data:").Append(chunk).Append("\r\n\r\n");
        wire.Append("data: [DONE]\r\n\r\n");
        var bytes = Encoding.UTF8.GetBytes(wire.ToString());
        var split = Encoding.UTF8.GetBytes(": hello\r\n\r\ndata:" + Chunks[0] + "\r\n\r\ndata:" + Chunks[1] + "\r\n\r\ndata:" + Chunks[2]).Length - 5;
        await http.Response.Body.WriteAsync(bytes.AsMemory(0, split));   // inside the emoji of the third chunk
        await http.Response.Body.FlushAsync();
        await http.Response.Body.WriteAsync(bytes.AsMemory(split));
    }

    [Fact]
    public async Task Stream_FirstAttempt_EveryChunkIsTheUpstreamsBytes()
    {
        using var client = _relay.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"pt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = string.Concat(Chunks.Select(c => "data: " + c + "\n\n")) + "data: [DONE]\n\n";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), body);
    }
}
