using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The official Anthropic .NET SDK, pointed at the relay's <c>/v1/messages</c>, sees an ordinary Anthropic endpoint (answered by the simulator).</summary>
[Collection(RelayCollection.Name)]
public sealed class AnthropicSdkTests(RelayFixture fixture)
{
    private AnthropicClient Client(string key = RelayFixture.ClientKey) =>
        new() { ApiKey = key, BaseUrl = fixture.Relay.BaseUrl.ToString().TrimEnd('/'), MaxRetries = 0, Timeout = TimeSpan.FromSeconds(20) };

    private static MessageCreateParams Ask(string model, string prompt = "Say hello") => new()
    {
        Model = model,
        MaxTokens = 256,
        Messages = [new UserMessageParam(prompt)],
    };

    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "The weather in a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement>
            {
                ["city"] = JsonDocument.Parse("""{"type":"string"}""").RootElement.Clone(),
                ["days"] = JsonDocument.Parse("""{"type":"integer"}""").RootElement.Clone(),
            },
            Required = ["city", "days"],
        },
    };

    [Fact]
    public async Task Sdk_Streaming_ReceivesTextStopReasonAndUsage()
    {
        var text = new StringBuilder();
        long? promptEstimate = null, output = null;
        string? stopReason = null;
        string? model = null;
        var stopped = false;
        await foreach (var e in Client().Messages.CreateStreaming(Ask("sim")))
        {
            if (e.TryPickStart(out var start))
            {
                promptEstimate = start.Message.Usage.InputTokens;
                model = start.Message.Model.Raw();
            }
            if (e.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece)) text.Append(piece.Text);
            if (e.TryPickDelta(out var end))
            {
                stopReason = end.Delta.StopReason?.Raw();
                output = end.Usage.OutputTokens;
            }
            if (e.TryPickStop(out _)) stopped = true;
        }
        Assert.False(string.IsNullOrWhiteSpace(text.ToString()));
        Assert.Equal("sim", model);   // the model the client asked for
        Assert.True(promptEstimate > 0);   // message_start usage is never 0/0
        Assert.Equal("end_turn", stopReason);
        Assert.Equal(12, output);
        Assert.True(stopped);
    }

    [Fact]
    public async Task Sdk_NonStreaming_ReceivesAMessage()
    {
        var message = await Client().Messages.Create(Ask("sim"));
        Assert.StartsWith("msg_", message.ID);
        Assert.Equal("sim", message.Model.Raw());
        Assert.Equal("end_turn", message.StopReason?.Raw());
        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.False(string.IsNullOrWhiteSpace(text.Text));
        Assert.Equal(12, message.Usage.OutputTokens);
        Assert.True(message.Usage.InputTokens > 0);
    }

    [Fact]
    public async Task Sdk_BearerAuthToken_IsAcceptedLikeAnApiKey()
    {
        var client = new AnthropicClient { AuthToken = RelayFixture.ClientKey, BaseUrl = fixture.Relay.BaseUrl.ToString().TrimEnd('/'), MaxRetries = 0 };
        var message = await client.Messages.Create(Ask("sim"));
        Assert.Equal("end_turn", message.StopReason?.Raw());
    }

    [Fact]
    public async Task Sdk_BadKey_Surfaces401AuthenticationError()
    {
        var ex = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Client("sk-wrong").Messages.Create(Ask("sim")));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal("authentication_error", ex.Type?.Raw());
    }

    [Fact]
    public async Task Sdk_UnknownModel_Surfaces404NotFound()
    {
        var ex = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Client().Messages.Create(Ask("nope-claude")));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("not_found_error", ex.Type?.Raw());
        Assert.Contains("nope-claude", ex.ApiMessage);
    }

    [Fact]
    public async Task Sdk_MissingMaxTokens_Surfaces400InvalidRequest()
    {
        var body = new Dictionary<string, JsonElement>
        {
            ["model"] = JsonSerializer.SerializeToElement("sim"),
            ["messages"] = JsonDocument.Parse("""[{"role":"user","content":"hi"}]""").RootElement.Clone(),
        };
        var request = MessageCreateParams.FromRawUnchecked(new Dictionary<string, JsonElement>(), new Dictionary<string, JsonElement>(), body);
        var ex = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Client().Messages.Create(request));
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Equal("invalid_request_error", ex.Type?.Raw());
        Assert.Contains("max_tokens", ex.ApiMessage);
    }

    [Fact]
    public async Task Sdk_CountTokens_AnswersAnEstimate()
    {
        var count = await Client().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "sim",
            Messages = [new UserMessageParam("How many tokens is this prompt, roughly?")],
        });
        Assert.InRange(count.InputTokens, 5, 20);
    }

    [Fact]
    public async Task Sdk_ToolChoiceAny_StreamsOneToolUseBlockAndStopReasonToolUse()
    {
        var request = Ask("sim", "Weather in Oslo?") with { Tools = [Weather], ToolChoice = new ToolChoiceAny() };
        string? id = null, name = null, stopReason = null;
        var input = new StringBuilder();
        await foreach (var e in Client().Messages.CreateStreaming(request))
        {
            if (e.TryPickContentBlockStart(out var start) && start.ContentBlock.TryPickToolUse(out var tool))
            {
                id = tool.ID;
                name = tool.Name;
            }
            if (e.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickInputJson(out var json)) input.Append(json.PartialJson);
            if (e.TryPickDelta(out var end)) stopReason = end.Delta.StopReason?.Raw();
        }
        Assert.StartsWith("call_sim_", id);   // the upstream's own id, unchanged
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"example","days":1}""", input.ToString());
        Assert.Equal("tool_use", stopReason);
    }

    [Fact]
    public async Task Sdk_NamedTool_NonStreamingAnswersWithToolUse_AndTheResultRoundTrips()
    {
        var request = Ask("sim", "Weather in Oslo?") with { Tools = [Weather], ToolChoice = new ToolChoiceTool("get_weather") };
        var message = await Client().Messages.Create(request);
        Assert.Equal("tool_use", message.StopReason?.Raw());
        var block = Assert.Single(message.Content, c => c.TryPickToolUse(out _));
        Assert.True(block.TryPickToolUse(out var call));
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("example", call.Input["city"].GetString());
        Assert.Equal(1, call.Input["days"].GetInt32());

        var after = await Client().Messages.Create(request with
        {
            Messages =
            [
                new UserMessageParam("Weather in Oslo?"),
                new AssistantMessageParam(new List<ContentBlockParam>
                {
                    new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input },
                }),
                new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(call.ID) { Content = "sunny" } }),
            ],
        });
        Assert.Equal("end_turn", after.StopReason?.Raw());
        Assert.True(after.Content[0].TryPickText(out var text));
        Assert.False(string.IsNullOrWhiteSpace(text.Text));
    }
}
