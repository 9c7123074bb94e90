#pragma warning disable OPENAI001   // the SDK marks its Responses client experimental
#pragma warning disable SCME0001    // StreamingResponseUpdate.SequenceNumber is marked for evaluation
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Responses;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>The official OpenAI .NET SDK's Responses client, pointed at the relay's <c>/v1/responses</c>, against the simulator.</summary>
[Collection(RelayCollection.Name)]
public sealed class ResponsesSdkTests(RelayFixture fixture)
{
    private ResponsesClient Client() => new(new ApiKeyCredential(RelayFixture.ClientKey),
        new ResponsesClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });

    private static readonly ResponseTool Weather = ResponseTool.CreateFunctionTool("get_weather",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"]}"""),
        strictModeEnabled: false, functionDescription: "The weather in a city");

    [Fact]
    public async Task Sdk_Streaming_ReceivesTheWholeAnswerInOrderWithUsage()
    {
        var options = new CreateResponseOptions("sim", [ResponseItem.CreateUserMessageItem("Say hello")]) { Instructions = "Be brief.", StreamingEnabled = true };
        options.Metadata["ticket"] = "t-1";
        var text = new StringBuilder();
        var sequence = new List<int>();
        ResponseResult? completed = null;
        await foreach (var update in await Client().CreateResponseStreamingAsync(options))
        {
            sequence.Add(update.SequenceNumber);
            if (update is StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
            if (update is StreamingResponseCompletedUpdate done) completed = done.Response;
        }
        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
        Assert.NotNull(completed);
        Assert.Equal(ResponseStatus.Completed, completed.Status);
        Assert.Equal("sim", completed.Model);
        Assert.StartsWith("resp_", completed.Id);
        Assert.Equal("t-1", completed.Metadata["ticket"]);
        Assert.False(string.IsNullOrWhiteSpace(text.ToString()));
        Assert.Equal(text.ToString(), completed.GetOutputText());
        Assert.Equal(12, completed.Usage.OutputTokenCount);
        Assert.True(completed.Usage.InputTokenCount > 0);
        Assert.Equal(completed.Usage.InputTokenCount + 12, completed.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Sdk_NonStreaming_ReturnsTheResponseObject()
    {
        ResponseResult response = await Client().CreateResponseAsync("sim", [ResponseItem.CreateUserMessageItem("Hello there")]);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal("sim", response.Model);
        Assert.False(string.IsNullOrWhiteSpace(response.GetOutputText()));
        Assert.Equal(12, response.Usage.OutputTokenCount);
        var message = Assert.IsType<MessageResponseItem>(Assert.Single(response.OutputItems), exactMatch: false);
        Assert.Equal(MessageRole.Assistant, message.Role);
    }

    [Fact]
    public async Task Sdk_MaxOutputTokensReached_IsIncomplete()
    {
        var options = new CreateResponseOptions("sim", [ResponseItem.CreateUserMessageItem("Hello")]) { MaxOutputTokenCount = 3 };
        ResponseResult response = await Client().CreateResponseAsync(options);
        Assert.Equal(ResponseStatus.Incomplete, response.Status);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, response.IncompleteStatusDetails.Reason);
        Assert.Equal(3, response.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Sdk_StoreTrue_IsAnsweredWithoutStoring()
    {
        var options = new CreateResponseOptions("sim", [ResponseItem.CreateUserMessageItem("Hello")]) { StoredOutputEnabled = true };
        ResponseResult response = await Client().CreateResponseAsync(options);
        Assert.Equal(ResponseStatus.Completed, response.Status);
    }

    [Fact]
    public async Task Sdk_PreviousResponseId_IsRefusedWith400()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client().CreateResponseAsync("sim", [ResponseItem.CreateUserMessageItem("And then?")], previousResponseId: "resp_123"));
        Assert.Equal(400, ex.Status);
        Assert.Contains("previous_response_id", ex.Message);
    }

    [Fact]
    public async Task Sdk_ToolRequired_StreamsAFunctionCall_AndTheResultRoundTrips()
    {
        var options = new CreateResponseOptions("sim", [ResponseItem.CreateUserMessageItem("Weather in Oslo?")])
        {
            Tools = { Weather },
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
            StreamingEnabled = true,
        };
        var arguments = new StringBuilder();
        FunctionCallResponseItem? call = null;
        ResponseResult? completed = null;
        await foreach (var update in await Client().CreateResponseStreamingAsync(options))
        {
            if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate delta) arguments.Append(delta.Delta.ToString());
            if (update is StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem done }) call = done;
            if (update is StreamingResponseCompletedUpdate end) completed = end.Response;
        }
        Assert.NotNull(call);
        Assert.StartsWith("call_sim_", call.CallId);   // the upstream's id, unchanged
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"example","days":1}""", arguments.ToString());
        Assert.Equal(arguments.ToString(), call.FunctionArguments.ToString());
        Assert.Equal(ResponseStatus.Completed, completed?.Status);

        // The call and its result sent back as items: the simulator answers in text.
        ResponseResult after = await Client().CreateResponseAsync(new CreateResponseOptions("sim",
        [
            ResponseItem.CreateUserMessageItem("Weather in Oslo?"),
            call,
            ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny"),
        ]) { Tools = { Weather }, ToolChoice = ResponseToolChoice.CreateRequiredChoice() });
        Assert.Equal(ResponseStatus.Completed, after.Status);
        Assert.False(string.IsNullOrWhiteSpace(after.GetOutputText()));
    }

    [Fact]
    public async Task Sdk_ToolNamed_NonStreamingAnswersWithTheCall()
    {
        var options = new CreateResponseOptions("sim", [ResponseItem.CreateUserMessageItem("Weather in Oslo?")])
        {
            Tools = { Weather },
            ToolChoice = ResponseToolChoice.CreateFunctionChoice("get_weather"),
        };
        ResponseResult response = await Client().CreateResponseAsync(options);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(response.OutputItems));
        Assert.StartsWith("call_sim_", call.CallId);
        Assert.Equal("""{"city":"example","days":1}""", call.FunctionArguments.ToString());
        Assert.NotNull(response.Usage);
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string json, string? fault = null)
    {
        using var client = fixture.Relay.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (fault is not null) request.Headers.Add("x-simulator-fault", fault);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static List<(string Type, JsonElement Data)> Events(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => !e.StartsWith(':')).Select(e =>
        {
            var lines = e.Split('\n');
            return (lines[0]["event: ".Length..], JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement);
        }).ToList();

    [Fact]
    public async Task Wire_Streaming_EveryEventNamesItsType_AndNoDoneMarker()
    {
        var (status, body) = await PostAsync("""{"model":"sim","input":"Say hello","stream":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var events = Events(body);
        Assert.All(events, e => Assert.Equal(e.Type, e.Data.GetProperty("type").GetString()));
        Assert.Equal("response.created", events[0].Type);
        Assert.Equal("response.completed", events[^1].Type);
        Assert.DoesNotContain("[DONE]", body);   // the Responses stream ends with response.completed
    }

    [Fact]
    public async Task Wire_FailureOnEveryAttempt_EndsWithResponseFailed()
    {
        var (status, body) = await PostAsync("""{"model":"sim","input":"Say hello","stream":true}""", "drop-after=5;times=all");
        Assert.Equal(HttpStatusCode.OK, status);
        var events = Events(body);
        Assert.Equal("response.failed", events[^1].Type);
        var response = events[^1].Data.GetProperty("response");
        Assert.Equal("failed", response.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(response.GetProperty("error").GetProperty("message").GetString()));
        Assert.DoesNotContain(events, e => e.Type == "response.completed");
    }

    [Fact]
    public async Task Wire_UnknownFieldsAndTools_AreAnsweredAndNamedInTheDroppedHeader()
    {
        using var client = fixture.Relay.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"sim","input":"hi","frobnicate":true,"client_metadata":{"a":"b"},"tools":[{"type":"web_search"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tools[0]:web_search, frobnicate, client_metadata", string.Join(", ", response.Headers.GetValues("x-orchestrator-dropped")));
        Assert.Equal("completed", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Wire_UnknownModel_Is404()
    {
        var (status, body) = await PostAsync("""{"model":"nope","input":"hi"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Wire_NoKey_Is401()
    {
        using var client = fixture.Relay.Client(key: null);
        using var response = await client.PostAsync("/v1/responses", new StringContent("""{"model":"sim","input":"hi"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
