using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The official OpenAI .NET SDK, pointed at the relay, sees an ordinary OpenAI endpoint.</summary>
[Collection(RelayCollection.Name)]
public sealed class OpenAiSdkTests(RelayFixture fixture)
{
    private ChatClient Client(string model) => new(model, new ApiKeyCredential(RelayFixture.ClientKey),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });

    [Fact]
    public async Task Sdk_Models_ListAndRetrieveOne_UnknownIs404()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(RelayFixture.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });
        var listed = (await models.GetModelsAsync()).Value;
        Assert.Contains(listed, m => m.Id == "sim");

        var one = (await models.GetModelAsync("sim")).Value;
        Assert.Equal("sim", one.Id);
        Assert.Equal("orchestrator", one.OwnedBy);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("simm"));
        Assert.Equal(404, missing.Status);
        Assert.Contains("The model 'simm' does not exist", missing.Message);
    }

    [Fact]
    public async Task Sdk_Streaming_ReceivesWholeAnswerAndUsage()
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Client("relay").CompleteChatStreamingAsync(
            [new UserChatMessage("Say hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(FakeUpstream.Answer, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(13, usage?.TotalTokenCount);   // the SDK asks for include_usage itself
    }

    [Fact]
    public async Task Sdk_Streaming_CutMidwayAndResumed_SeesOneWholeAnswerWithUsageOfBothAttempts()
    {
        var text = new StringBuilder();
        var ids = new HashSet<string>();
        ChatTokenUsage? usage = null;
        await foreach (var update in Client("resume").CompleteChatStreamingAsync([new UserChatMessage("Say hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            if (update.CompletionId is { } id) ids.Add(id);
            usage ??= update.Usage;
        }
        Assert.Equal(FakeUpstream.Answer, text.ToString());
        Assert.Single(ids);
        // The resumed attempt's usage, plus what the cut one cost: its two tokens and its prompt, estimated as the
        // ledger bills it (the message's strings, 24 characters, / 4, + 3 for the message: 9).
        Assert.Equal(13 + 2 + 9, usage?.TotalTokenCount);
    }

    [Fact]
    public async Task Sdk_NonStreaming_FromSimulator()
    {
        ChatCompletion completion = await Client("sim").CompleteChatAsync([new UserChatMessage("Hello there")]);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
    }

    [Fact]
    public async Task Sdk_UnknownModel_SurfacesStatus404()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client("nope").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, ex.Status);
        Assert.Contains("model_not_found", ex.Message);
    }

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"]}"""));

    [Fact]
    public async Task Sdk_SimulatorAskedForATool_StreamsOneCallWithArgumentsInPieces()
    {
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        var arguments = new StringBuilder();
        string? id = null, name = null;
        ChatFinishReason? finish = null;
        var pieces = 0;
        await foreach (var update in Client("sim").CompleteChatStreamingAsync([new UserChatMessage("Weather in Oslo?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                Assert.Equal(0, call.Index);
                id ??= call.ToolCallId;
                name ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate.ToString());
                pieces++;
            }
            finish ??= update.FinishReason;
        }
        Assert.StartsWith("call_sim_", id);
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"example","days":1}""", arguments.ToString());
        Assert.Equal(2, pieces);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Sdk_SimulatorAskedForATool_NonStreamingAnswersWithTheCall()
    {
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        ChatCompletion completion = await Client("sim").CompleteChatAsync([new UserChatMessage("Weather in Oslo?")], options);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"example","days":1}""", call.FunctionArguments.ToString());

        // The tool's result sent back: the simulator answers in text.
        ChatCompletion after = await Client("sim").CompleteChatAsync(
            [new UserChatMessage("Weather in Oslo?"), new AssistantChatMessage(completion), new ToolChatMessage(call.Id, "sunny")], options);
        Assert.Equal(ChatFinishReason.Stop, after.FinishReason);
        Assert.NotEmpty(after.Content[0].Text);
    }
}
