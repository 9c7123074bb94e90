#pragma warning disable OPENAI001   // the SDK marks its Responses client experimental
using System.ClientModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using Orchestrator.Actors.Simulator;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// Issue 10's matrix: each front through its official SDK (chat completions and responses through the OpenAI SDK,
/// messages through the Anthropic SDK) against each upstream kind, streamed and whole, text and tool call; then a
/// stream cut on a route of one dialect and resumed on a route of the other, seen by a client of either dialect.
/// Every assertion reads the SDK's own types, so what a client would misparse fails here.
/// </summary>
public sealed class DialectMatrixTests(DialectMatrixFixture fixture) : IClassFixture<DialectMatrixFixture>
{
    private const string Prompt = "Say hello";

    /// <summary>What a client of any dialect must end up with: the text, the tool calls, the finish in its dialect's words, usage.</summary>
    /// <param name="Parts">Content blocks (messages) or output items (responses) the answer came in; 1 for chat.</param>
    private sealed record Outcome(string Text, IReadOnlyList<Call> Calls, string Finish, long InputTokens, long OutputTokens, int Parts = 1);

    private sealed record Call(string Id, string Name, string Arguments);

    /// <summary>What an upstream sends. A null call id means the upstream's id is not knowable in advance (see IdPrefix).</summary>
    private sealed record Expected(string Text, string ToolText, IReadOnlyList<ExpectedCall> Calls, long? TextOutputTokens, long? ToolOutputTokens);

    private sealed record ExpectedCall(string? Id, string IdPrefix, string Name, string Arguments);

    public static TheoryData<string, string, bool, bool> Cells()
    {
        var data = new TheoryData<string, string, bool, bool>();
        foreach (var front in new[] { "chat", "messages", "responses" })
        foreach (var upstream in new[] { "openai", "anthropic", "gemini", "simulator" })
        foreach (var stream in new[] { true, false })
        foreach (var tool in new[] { false, true })
            data.Add(front, upstream, stream, tool);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Front_Upstream_AnswerArrivesWholeInTheClientsDialect(string front, string upstream, bool stream, bool tool)
    {
        var expected = Expect(upstream);
        var outcome = await (front switch
        {
            "chat" => ViaChatAsync(upstream, stream, tool),
            "messages" => ViaMessagesAsync(upstream, stream, tool),
            "responses" => ViaResponsesAsync(upstream, stream, tool),
            _ => throw new ArgumentOutOfRangeException(nameof(front)),
        }).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(tool ? expected.ToolText : expected.Text, outcome.Text);
        if (tool)
        {
            Assert.Equal(expected.Calls.Count, outcome.Calls.Count);
            foreach (var (want, got) in expected.Calls.Zip(outcome.Calls))
            {
                if (want.Id is not null) Assert.Equal(want.Id, got.Id);   // the upstream's own id, unchanged
                else Assert.StartsWith(want.IdPrefix, got.Id);
                Assert.Equal(want.Name, got.Name);
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(want.Arguments), JsonNode.Parse(got.Arguments)), $"arguments {got.Arguments}, expected {want.Arguments}");
            }
            Assert.Equal(expected.Calls.Count, outcome.Calls.Select(c => c.Id).Distinct().Count());
        }
        else
        {
            Assert.Empty(outcome.Calls);
        }
        Assert.Equal(FinishOf(front, tool), outcome.Finish);
        Assert.True(outcome.InputTokens > 0, $"input tokens {outcome.InputTokens}");
        Assert.True(outcome.OutputTokens > 0, $"output tokens {outcome.OutputTokens}");
        if ((tool ? expected.ToolOutputTokens : expected.TextOutputTokens) is { } output) Assert.Equal(output, outcome.OutputTokens);
    }

    /// <summary>
    /// A stream cut mid-answer (no finish, no message_stop) on a route of one dialect and resumed on a route of the
    /// other: the client sees one answer in its own dialect, the whole text once, a normal stop and usage.
    /// Strategies per model are in <see cref="DialectMatrixFixture"/>.
    /// </summary>
    [Theory]
    [InlineData("messages", "anthropic-then-openai")]
    [InlineData("chat", "anthropic-then-openai")]
    [InlineData("responses", "anthropic-then-openai")]
    [InlineData("messages", "openai-then-anthropic")]
    [InlineData("chat", "openai-then-anthropic")]
    [InlineData("responses", "openai-then-anthropic")]
    [InlineData("messages", "openai-then-anthropic-prefill")]
    [InlineData("chat", "openai-then-anthropic-prefill")]
    [InlineData("responses", "openai-then-anthropic-prefill")]
    public async Task Front_CutOnOneDialectResumedOnTheOther_OneWholeAnswer(string front, string model)
    {
        var (cutRoute, continuingRoute) = model switch
        {
            "anthropic-then-openai" => ("claude-cut", "prefill-ok"),
            "openai-then-anthropic" => ("cut-after-2", "claude-text"),
            _ => ("cut-after-2", "claude-prefill"),
        };
        var cutsBefore = CallsOf(cutRoute);
        var continuedBefore = CallsOf(continuingRoute);

        var outcome = await (front switch
        {
            "chat" => ViaChatAsync(model, stream: true, tool: false),
            "messages" => ViaMessagesAsync(model, stream: true, tool: false),
            "responses" => ViaResponsesAsync(model, stream: true, tool: false),
            _ => throw new ArgumentOutOfRangeException(nameof(front)),
        }).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(FakeUpstream.Answer, outcome.Text);   // both fakes' answer is "Hello, world!": no piece missing or twice
        Assert.Equal(AnthropicRecordings.TextAnswer, FakeUpstream.Answer);
        Assert.Empty(outcome.Calls);
        Assert.Equal(1, outcome.Parts);   // one text block / one message item, continued rather than started again
        Assert.Equal(FinishOf(front, tool: false), outcome.Finish);
        Assert.True(outcome.InputTokens > 0, $"input tokens {outcome.InputTokens}");
        Assert.True(outcome.OutputTokens > 0, $"output tokens {outcome.OutputTokens}");
        // Both routes were used, once each: the cut one, then the one that finished the answer.
        Assert.Equal(cutsBefore + 1, CallsOf(cutRoute));
        Assert.Equal(continuedBefore + 1, CallsOf(continuingRoute));
        if (continuingRoute != "claude-text") Assert.Equal("assistant", LastRoleSentTo(continuingRoute));   // it was a prefill
    }

    /// <summary>Issue 10: "an answer whose upstream sent no usage is marked estimated, never reported as zero", on every front.</summary>
    [Theory]
    [InlineData("chat")]
    [InlineData("messages")]
    [InlineData("responses")]
    public async Task Front_UpstreamSentNoUsage_UsageStillArrives(string front)
    {
        // "diverge" streams "Goodbye, moon." and stops without a usage chunk, though the relay asked for one.
        var outcome = await (front switch
        {
            "chat" => ViaChatAsync("openai-no-usage", stream: true, tool: false),
            "messages" => ViaMessagesAsync("openai-no-usage", stream: true, tool: false),
            "responses" => ViaResponsesAsync("openai-no-usage", stream: true, tool: false),
            _ => throw new ArgumentOutOfRangeException(nameof(front)),
        }).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("Goodbye, moon.", outcome.Text);
        Assert.True(outcome.InputTokens > 0, $"input tokens {outcome.InputTokens}");
        Assert.True(outcome.OutputTokens > 0, $"output tokens {outcome.OutputTokens}");
    }

    [Fact]
    public async Task Chat_UpstreamSentNoUsage_LastChunkBeforeDoneIsAnEstimateMarkedAsSuch()
    {
        using var client = fixture.Relay.Client();
        var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"openai-no-usage","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say goodbye"}]}""",
            Encoding.UTF8, "application/json"));
        var lines = Sse.DataLines(await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal("[DONE]", lines[^1]);
        var usage = JsonDocument.Parse(lines[^2]).RootElement;
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.True(usage.GetProperty("usage").GetProperty("estimated").GetBoolean());
        Assert.True(usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
        Assert.Equal("openai-no-usage", usage.GetProperty("model").GetString());
    }

    private int CallsOf(string upstreamModel) => upstreamModel.StartsWith("claude", StringComparison.Ordinal)
        ? fixture.Anthropic.Requests.Count(r => r.Body.GetProperty("model").GetString() == upstreamModel)
        : fixture.OpenAi.Requests.Count(r => r.Body.GetProperty("model").GetString() == upstreamModel);

    /// <summary>The role of the last message in the last request that reached <paramref name="upstreamModel"/>.</summary>
    private string? LastRoleSentTo(string upstreamModel)
    {
        var body = upstreamModel.StartsWith("claude", StringComparison.Ordinal)
            ? fixture.Anthropic.Requests.Last(r => r.Body.GetProperty("model").GetString() == upstreamModel).Body
            : fixture.OpenAi.Requests.Last(r => r.Body.GetProperty("model").GetString() == upstreamModel).Body;
        var messages = body.GetProperty("messages");
        return messages[messages.GetArrayLength() - 1].GetProperty("role").GetString();
    }

    /// <summary>The finish a client of <paramref name="front"/> expects: its dialect's tool reason or its normal stop.</summary>
    private static string FinishOf(string front, bool tool) => (front, tool) switch
    {
        ("chat", false) => "stop",
        ("chat", true) => "tool_calls",
        ("messages", false) => "end_turn",
        ("messages", true) => "tool_use",
        // Responses has no finish reason: a completed response whose output ends in function_call items is the tool turn.
        ("responses", false) => "completed:message",
        ("responses", true) => "completed:function_call",
        _ => throw new ArgumentOutOfRangeException(nameof(front)),
    };

    private static Expected Expect(string upstream) => upstream switch
    {
        "openai" => new Expected(FakeUpstream.Answer, "",
            [new ExpectedCall(FakeUpstream.ToolCallId, "", "get_weather", FakeUpstream.ToolArguments)], 4, 7),
        "anthropic" => new Expected(AnthropicRecordings.TextAnswer, "Let me check.",
        [
            new ExpectedCall(AnthropicRecordings.WeatherToolId, "", "get_weather", """{"city":"Paris","unit":"c"}"""),
            new ExpectedCall(AnthropicRecordings.TimeToolId, "", "get_time", "{}"),
        ], 12, 89),
        // Gemini's functionCall has no id (the relay names each call), so only the form of the id is known here.
        "gemini" => new Expected("Hello, world!", "Checking both.",
        [
            new ExpectedCall(null, "call_", "get_weather", """{"city":"Oslo","unit":"celsius"}"""),
            new ExpectedCall(null, "call_", "get_time", "{}"),
        ], 4 + 13, 31 + 42),   // candidates plus thoughts: output tokens, as the OpenAI convention counts reasoning
        // The simulator's call id is a hash of the request body as it reached it, so only its form is known here.
        "simulator" => new Expected(SimulatedText(), "",
            [new ExpectedCall(null, "call_sim_", "get_weather", """{"city":"example"}""")], 12, null),
        _ => throw new ArgumentOutOfRangeException(nameof(upstream)),
    };

    /// <summary>The simulator's answer to the one user message every front sends (it hashes the prompt's text only).</summary>
    private static string SimulatedText() =>
        SimulatedAnswer.For(JsonSerializer.SerializeToElement(new { messages = new[] { new { role = "user", content = Prompt } } }), 12, null).Text;

    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";
    private const string NoArgumentsSchema = """{"type":"object","properties":{}}""";

    // ---- chat completions, OpenAI SDK ----

    private ChatClient ChatClient(string model) => new(model, new ApiKeyCredential(DialectMatrixFixture.ClientKey),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });

    private static ChatCompletionOptions ChatOptions(bool tool)
    {
        var options = new ChatCompletionOptions();
        if (!tool) return options;
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The weather in a city", BinaryData.FromString(WeatherSchema)));
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "The time", BinaryData.FromString(NoArgumentsSchema)));
        options.ToolChoice = ChatToolChoice.CreateRequiredChoice();
        return options;
    }

    private async Task<Outcome> ViaChatAsync(string model, bool stream, bool tool)
    {
        var client = ChatClient(model);
        if (!stream)
        {
            ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage(Prompt)], ChatOptions(tool));
            Assert.Equal(ChatMessageRole.Assistant, completion.Role);
            return new Outcome(string.Concat(completion.Content.Select(p => p.Text)),
                completion.ToolCalls.Select(c => new Call(c.Id, c.FunctionName, c.FunctionArguments.ToString())).ToList(),
                Finish(completion.FinishReason), completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount);
        }
        var text = new StringBuilder();
        var ids = new SortedDictionary<int, string>();
        var names = new SortedDictionary<int, string>();
        var arguments = new SortedDictionary<int, StringBuilder>();
        var completionIds = new HashSet<string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var finishes = 0;
        var roles = 0;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(Prompt)], ChatOptions(tool)))
        {
            if (update.CompletionId is { } id) completionIds.Add(id);
            if (update.Role is not null) roles++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            foreach (var call in update.ToolCallUpdates)
            {
                // The id and name come once, on the call's first chunk; a repeat would be a second call to a client.
                if (call.ToolCallId is { } callId) Assert.True(ids.TryAdd(call.Index, callId), $"call {call.Index} started twice");
                if (call.FunctionName is { } name) Assert.True(names.TryAdd(call.Index, name), $"call {call.Index} named twice");
                if (call.FunctionArgumentsUpdate is { } piece && !piece.ToMemory().IsEmpty)
                    (arguments.TryGetValue(call.Index, out var sb) ? sb : arguments[call.Index] = new StringBuilder()).Append(piece.ToString());
            }
            if (update.FinishReason is { } f)
            {
                finish = f;
                finishes++;
            }
            usage ??= update.Usage;
        }
        Assert.Single(completionIds);   // one answer, however many attempts made it
        Assert.Equal(1, roles);
        Assert.Equal(1, finishes);
        Assert.NotNull(usage);
        Assert.Equal(ids.Keys, names.Keys);
        var calls = ids.Select(c => new Call(c.Value, names[c.Key], arguments.TryGetValue(c.Key, out var a) ? a.ToString() : "")).ToList();
        return new Outcome(text.ToString(), calls, Finish(finish!.Value), usage.InputTokenCount, usage.OutputTokenCount);
    }

    private static string Finish(ChatFinishReason reason) => reason switch
    {
        ChatFinishReason.Stop => "stop",
        ChatFinishReason.ToolCalls => "tool_calls",
        ChatFinishReason.Length => "length",
        ChatFinishReason.ContentFilter => "content_filter",
        _ => reason.ToString(),
    };

    // ---- messages, Anthropic SDK ----

    private AnthropicClient MessagesClient() => new()
    {
        ApiKey = DialectMatrixFixture.ClientKey,
        BaseUrl = fixture.Relay.BaseUrl.ToString().TrimEnd('/'),
        MaxRetries = 0,
        Timeout = TimeSpan.FromSeconds(20),
    };

    private static InputSchema Schema(string json)
    {
        var schema = JsonDocument.Parse(json).RootElement;
        return new InputSchema
        {
            Properties = schema.GetProperty("properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
            Required = schema.TryGetProperty("required", out var required) ? required.EnumerateArray().Select(r => r.GetString()!).ToList() : null,
        };
    }

    private static MessageCreateParams MessagesRequest(string model, bool tool)
    {
        var request = new MessageCreateParams { Model = model, MaxTokens = 256, Messages = [new UserMessageParam(Prompt)] };
        if (!tool) return request;
        return request with
        {
            Tools =
            [
                new Tool { Name = "get_weather", Description = "The weather in a city", InputSchema = Schema(WeatherSchema) },
                new Tool { Name = "get_time", Description = "The time", InputSchema = Schema(NoArgumentsSchema) },
            ],
            ToolChoice = new ToolChoiceAny(),
        };
    }

    private async Task<Outcome> ViaMessagesAsync(string model, bool stream, bool tool)
    {
        var client = MessagesClient();
        if (!stream)
        {
            var message = await client.Messages.Create(MessagesRequest(model, tool));
            Assert.StartsWith("msg_", message.ID);
            // An Anthropic upstream's own message comes back as it sent it, its model name included.
            Assert.Equal(model == "anthropic" ? "claude-test-1" : model, message.Model.Raw());
            var text = new StringBuilder();
            var uses = new List<Call>();
            foreach (var block in message.Content)
            {
                if (block.TryPickText(out var t)) text.Append(t.Text);
                if (block.TryPickToolUse(out var use)) uses.Add(new Call(use.ID, use.Name, JsonSerializer.Serialize(use.Input)));
            }
            return new Outcome(text.ToString(), uses, message.StopReason?.Raw() ?? "(none)", message.Usage.InputTokens, message.Usage.OutputTokens, message.Content.Count);
        }
        var events = new List<string>();
        var open = new HashSet<long>();
        var blocks = 0;
        var texts = new StringBuilder();
        var toolBlocks = new SortedDictionary<long, (string Id, string Name, StringBuilder Input)>();
        string? stopReason = null;
        long input = 0, output = 0;
        await foreach (var e in client.Messages.CreateStreaming(MessagesRequest(model, tool)))
        {
            if (e.TryPickStart(out var start))
            {
                events.Add("message_start");
                input = start.Message.Usage.InputTokens;
                Assert.Equal(model.StartsWith("anthropic", StringComparison.Ordinal) ? "claude-test-1" : model, start.Message.Model.Raw());
            }
            if (e.TryPickContentBlockStart(out var blockStart))
            {
                Assert.True(open.Add(blockStart.Index), $"block {blockStart.Index} opened twice");
                blocks++;
                if (blockStart.ContentBlock.TryPickToolUse(out var use)) toolBlocks[blockStart.Index] = (use.ID, use.Name, new StringBuilder());
            }
            if (e.TryPickContentBlockDelta(out var delta))
            {
                Assert.Contains(delta.Index, open);
                if (delta.Delta.TryPickText(out var piece)) texts.Append(piece.Text);
                if (delta.Delta.TryPickInputJson(out var json)) toolBlocks[delta.Index].Input.Append(json.PartialJson);
            }
            if (e.TryPickContentBlockStop(out var blockStop)) Assert.True(open.Remove(blockStop.Index), $"block {blockStop.Index} closed but not open");
            if (e.TryPickDelta(out var end))
            {
                events.Add("message_delta");
                stopReason = end.Delta.StopReason?.Raw();
                output = end.Usage.OutputTokens;
            }
            if (e.TryPickStop(out _)) events.Add("message_stop");
        }
        Assert.Equal(["message_start", "message_delta", "message_stop"], events);
        Assert.Empty(open);   // every block closed
        // Claude Code reads a tool's input only from input_json_delta: an empty input still arrives as "{}" there, or as nothing.
        var calls = toolBlocks.Values.Select(b => new Call(b.Id, b.Name, b.Input.Length == 0 ? "{}" : b.Input.ToString())).ToList();
        return new Outcome(texts.ToString(), calls, stopReason ?? "(none)", input, output, blocks);
    }

    // ---- responses, OpenAI SDK ----

    private ResponsesClient ResponsesClient() => new(new ApiKeyCredential(DialectMatrixFixture.ClientKey),
        new ResponsesClientOptions { Endpoint = new Uri(fixture.Relay.BaseUrl, "/v1") });

    private static CreateResponseOptions ResponsesRequest(string model, bool stream, bool tool)
    {
        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem(Prompt)]) { StreamingEnabled = stream };
        if (!tool) return options;
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString(WeatherSchema), strictModeEnabled: false, functionDescription: "The weather in a city"));
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_time", BinaryData.FromString(NoArgumentsSchema), strictModeEnabled: false, functionDescription: "The time"));
        options.ToolChoice = ResponseToolChoice.CreateRequiredChoice();
        return options;
    }

    private async Task<Outcome> ViaResponsesAsync(string model, bool stream, bool tool)
    {
        var client = ResponsesClient();
        ResponseResult response;
        var streamedText = new StringBuilder();
        var streamedArguments = new Dictionary<string, StringBuilder>();
        if (stream)
        {
            ResponseResult? completed = null;
            await foreach (var update in await client.CreateResponseStreamingAsync(ResponsesRequest(model, stream, tool)))
            {
                if (update is StreamingResponseOutputTextDeltaUpdate delta) streamedText.Append(delta.Delta);
                if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate args)
                    (streamedArguments.TryGetValue(args.ItemId, out var sb) ? sb : streamedArguments[args.ItemId] = new StringBuilder()).Append(args.Delta.ToString());
                if (update is StreamingResponseCompletedUpdate done) completed = done.Response;
            }
            response = Assert.IsType<ResponseResult>(completed);
        }
        else
        {
            response = await client.CreateResponseAsync(ResponsesRequest(model, stream, tool));
        }
        Assert.Equal(model, response.Model);
        var calls = response.OutputItems.OfType<FunctionCallResponseItem>().Select(c => new Call(c.CallId, c.FunctionName, c.FunctionArguments.ToString())).ToList();
        var text = response.GetOutputText() ?? "";
        if (stream)
        {
            Assert.Equal(text, streamedText.ToString());   // the deltas and the final response agree
            foreach (var call in response.OutputItems.OfType<FunctionCallResponseItem>())
                Assert.Equal(call.FunctionArguments.ToString(), streamedArguments.TryGetValue(call.Id, out var a) ? a.ToString() : "");
        }
        var last = response.OutputItems[^1] switch
        {
            FunctionCallResponseItem => "function_call",
            MessageResponseItem => "message",
            var other => other.GetType().Name,
        };
        return new Outcome(text, calls, $"{response.Status?.ToString().ToLowerInvariant()}:{last}", response.Usage.InputTokenCount, response.Usage.OutputTokenCount, response.OutputItems.Count);
    }
}
