using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// <c>text.format</c> (a JSON schema) from <c>/v1/responses</c> onto an anthropic-kind route: Messages has no output
/// format, so the schema goes up as a forced tool's input schema and the tool's input comes back as the answer's text.
/// </summary>
public sealed class ResponsesAnthropicFormatTests : IAsyncLifetime
{
    private const string Answer = """{"city":"Oslo","celsius":-3}""";
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"integer"}},"required":["city","celsius"],"additionalProperties":false}""";

    private readonly ConcurrentQueue<JsonElement> _recorded = new();
    private WebApplication _upstream = null!;
    private RelayHost _relay = null!;

    public async Task InitializeAsync()
    {
        Uri url;
        (_upstream, url) = await LoopbackApp.StartAsync(app => app.MapPost("/v1/messages", async http =>
        {
            var body = JsonDocument.Parse(await new StreamReader(http.Request.Body).ReadToEndAsync()).RootElement.Clone();
            _recorded.Enqueue(body);
            var usage = new { input_tokens = 20, output_tokens = 9 };
            if (!body.GetProperty("stream").GetBoolean())
            {
                await http.Response.WriteAsJsonAsync(new
                {
                    id = "msg_1", type = "message", role = "assistant", model = "claude", stop_reason = "tool_use", usage,
                    content = new object[] { new { type = "tool_use", id = "toolu_1", name = "weather", input = JsonDocument.Parse(Answer).RootElement } },
                });
                return;
            }
            http.Response.ContentType = "text/event-stream";
            static string Event(string type, string json) => $"event: {type}\ndata: {json}\n\n";
            await http.Response.WriteAsync(string.Concat(
                Event("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"usage":{"input_tokens":20,"output_tokens":1}}}"""),
                Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{}}}"""),
                Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":PART}}""".Replace("PART", JsonSerializer.Serialize(Answer[..12]))),
                Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":PART}}""".Replace("PART", JsonSerializer.Serialize(Answer[12..]))),
                Event("content_block_stop", """{"type":"content_block_stop","index":0}"""),
                Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"""),
                Event("message_stop", """{"type":"message_stop"}""")));
        }));
        _relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["{{RelayFixture.ClientKey}}"]
              model-defaults { first-byte-timeout = 5s, first-token-timeout = 5s, idle-timeout = 5s }
              providers { claude { kind = anthropic, base-url = "{{new Uri(url, "/v1")}}", api-key = "sk-ant-test" } }
              models { "claude-json" { routes = [ { provider = claude, model = "claude" } ] } }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(bool stream)
    {
        using var client = _relay.Client();
        var json = """{"model":"claude-json","stream":STREAM,"input":"Weather in Oslo?","text":{"format":{"type":"json_schema","name":"weather","schema":SCHEMA,"strict":true}}}"""
            .Replace("STREAM", stream ? "true" : "false").Replace("SCHEMA", Schema);
        using var response = await client.PostAsync("/v1/responses", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(20)));
    }

    private void AssertTheSchemaWentUpAsAForcedTool()
    {
        var sent = Assert.Single(_recorded);
        var tool = Assert.Single(sent.GetProperty("tools").EnumerateArray());
        Assert.Equal("weather", tool.GetProperty("name").GetString());
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(Schema).RootElement), JsonSerializer.Serialize(tool.GetProperty("input_schema")));
        Assert.Equal("tool", sent.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal("weather", sent.GetProperty("tool_choice").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Streamed_JsonSchema_IsAnsweredAsTheTextOfTheJson()
    {
        var (status, body) = await PostAsync(stream: true);
        Assert.Equal(HttpStatusCode.OK, status);
        AssertTheSchemaWentUpAsAForcedTool();
        var last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Last();
        var completed = JsonDocument.Parse(last.Split('\n')[1]["data: ".Length..]).RootElement;
        Assert.Equal("response.completed", completed.GetProperty("type").GetString());
        var output = completed.GetProperty("response").GetProperty("output");
        var message = Assert.Single(output.EnumerateArray());
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(Answer, message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.DoesNotContain("function_call", body);
    }

    [Fact]
    public async Task Whole_JsonSchema_IsAnsweredAsTheTextOfTheJson()
    {
        var (status, body) = await PostAsync(stream: false);
        Assert.Equal(HttpStatusCode.OK, status);
        AssertTheSchemaWentUpAsAForcedTool();
        var response = JsonDocument.Parse(body).RootElement;
        Assert.Equal("completed", response.GetProperty("status").GetString());
        var message = Assert.Single(response.GetProperty("output").EnumerateArray());
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(Answer).RootElement), JsonSerializer.Serialize(JsonDocument.Parse(message.GetProperty("content")[0].GetProperty("text").GetString()!).RootElement));
    }
}
