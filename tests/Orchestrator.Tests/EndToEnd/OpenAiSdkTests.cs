using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The official OpenAI .NET SDK, pointed at the relay, sees an ordinary OpenAI endpoint.</summary>
[Collection(RelayCollection.Name)]
public sealed class OpenAiSdkTests(RelayFixture fixture)
{
    private ChatClient Client(string model) => new(model, new ApiKeyCredential(RelayFixture.ClientKey),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });

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
        Assert.Equal(13 + 2, usage?.TotalTokenCount);   // the resumed attempt's usage plus the two tokens of the cut one
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
}
