using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Simulator;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Simulator;

public sealed class SimulatorUpstreamClientTests : Akka.TestKit.Xunit2.TestKit
{
    private const int AnswerTokens = 12;
    private static readonly ProviderSettings Provider = TestSettings.From("").Providers["simulator"] with
    {
        Simulator = new SimulatorSettings(TimeSpan.Zero, AnswerTokens),
    };

    private sealed record StreamEnded
    {
        public static readonly StreamEnded Instance = new();
    }

    private sealed record StreamFailed(Exception Cause);

    private static SimulatorUpstreamClient Client(ProviderSettings? provider = null, TimeProvider? time = null) =>
        new(provider ?? Provider, time ?? TimeProvider.System);

    private static ChatRequest Request(bool stream, string? fault = null, string? prefill = null, bool includeUsage = false)
    {
        var messages = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = "Tell me about relays" } };
        if (prefill is not null) messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = prefill });
        var body = JsonSerializer.SerializeToElement(new JsonObject { ["model"] = "sim", ["messages"] = messages });
        return new ChatRequest("sim", stream, includeUsage, null, body) { SimulatorFault = fault };
    }

    private static UpstreamCall Call(ChatRequest request, int attempt = 0) => new("req-1", request, "sim") { Attempt = attempt };

    private static bool IsToken(ChatCompletionChunk chunk) =>
        chunk.Choices is [{ Delta.Role: null, FinishReason: null, Delta.Content: not null }];

    private static string Text(IEnumerable<ChatCompletionChunk> chunks) => string.Concat(chunks.Where(IsToken).Select(c => c.Choices[0].Delta.Content));

    private async Task<(List<ChatCompletionChunk> Chunks, Exception? Error)> RunAsync(UpstreamResponse response)
    {
        var stream = Assert.IsType<UpstreamStream>(response);
        var chunks = new List<ChatCompletionChunk>();
        var error = await Record.ExceptionAsync(() => TestSse.Chunks(stream.Body).RunForeach(chunks.Add, Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(10)));
        return (chunks, error);
    }

    private static ChatCompletion Parse(UpstreamCompletion completion) =>
        System.Text.Json.JsonSerializer.Deserialize(completion.Body.Span, WireJson.Default.ChatCompletion)!;

    private static async Task<string> FullTextAsync(SimulatorUpstreamClient client)
    {
        var completion = Assert.IsType<UpstreamCompletion>(await client.SendAsync(Call(Request(stream: false)), CancellationToken.None));
        return Parse(completion).Choices[0].Message.Content!;
    }

    [Fact]
    public async Task Stream_NoFault_EndsWithFinishReasonAndUsage()
    {
        var (chunks, error) = await RunAsync(await Client().SendAsync(Call(Request(stream: true, includeUsage: true)), CancellationToken.None));

        Assert.Null(error);
        Assert.Equal(AnswerTokens, chunks.Count(IsToken));
        Assert.Equal("stop", chunks[^2].Choices[0].FinishReason);
        Assert.Equal(AnswerTokens, chunks[^1].Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Status_WithRetryAfter_IsRefusedWithThatStatus()
    {
        var response = await Client().SendAsync(Call(Request(stream: true, "status=429;retry-after=2s")), CancellationToken.None);

        var failure = Assert.IsType<UpstreamRefusal>(response).Failure;
        Assert.Equal(FailureKind.RateLimited, failure.Kind);
        Assert.Equal(429, failure.Status);
        Assert.Equal(TimeSpan.FromSeconds(2), failure.RetryAfter);
        Assert.Equal("HTTP 429 (simulated)", failure.Message);
    }

    [Fact]
    public async Task Status_CallerFaultWithCode_CarriesAProviderLikeMessage()
    {
        var response = await Client().SendAsync(Call(Request(stream: false, "status=400;code=context_length_exceeded")), CancellationToken.None);

        var failure = Assert.IsType<UpstreamRefusal>(response).Failure;
        Assert.Equal(FailureKind.CallerFault, failure.Kind);
        Assert.Equal(400, failure.Status);
        Assert.Equal("context_length_exceeded", failure.Code);
        Assert.Equal("Simulated fault: the provider refused the request (HTTP 400).", failure.Message);
    }

    [Fact]
    public async Task Status_TimesOne_FaultsOnlyTheFirstAttempt()
    {
        var request = Request(stream: true, "status=503;times=1");

        var first = await Client().SendAsync(Call(request, attempt: 0), CancellationToken.None);
        var second = await Client().SendAsync(Call(request, attempt: 1), CancellationToken.None);

        Assert.Equal(FailureKind.ServerError, Assert.IsType<UpstreamRefusal>(first).Failure.Kind);
        var (chunks, error) = await RunAsync(second);
        Assert.Null(error);
        Assert.Equal(AnswerTokens, chunks.Count(IsToken));
    }

    [Fact]
    public async Task Status_TimesAll_FaultsEveryAttempt()
    {
        var response = await Client().SendAsync(Call(Request(stream: true, "status=503;times=all"), attempt: 40), CancellationToken.None);
        Assert.IsType<UpstreamRefusal>(response);
    }

    [Fact]
    public async Task ProviderFault_RequestWithoutPlan_IsFaulted()
    {
        var provider = Provider with { Simulator = Provider.Simulator with { Fault = new FaultPlan { Status = 502 } } };
        var response = await Client(provider).SendAsync(Call(Request(stream: true)), CancellationToken.None);
        Assert.Equal(502, Assert.IsType<UpstreamRefusal>(response).Failure.Status);
    }

    [Fact]
    public async Task ProviderFault_RequestWithPlan_UsesTheRequestsPlanInstead()
    {
        var provider = Provider with { Simulator = Provider.Simulator with { Fault = new FaultPlan { Status = 502 } } };
        var response = await Client(provider).SendAsync(Call(Request(stream: true, "status=504")), CancellationToken.None);
        Assert.Equal(504, Assert.IsType<UpstreamRefusal>(response).Failure.Status);
    }

    [Fact]
    public async Task InvalidRequestPlan_FromAnEmbedder_IsRefusedAsCallerFault()
    {
        var response = await Client().SendAsync(Call(Request(stream: true, "status=nope")), CancellationToken.None);

        var failure = Assert.IsType<UpstreamRefusal>(response).Failure;
        Assert.Equal(FailureKind.CallerFault, failure.Kind);
        Assert.Equal("invalid_fault_plan", failure.Code);
        Assert.Contains("status", failure.Message);
    }

    [Fact]
    public async Task DropAfter_Five_SendsFiveTokensThenFailsAsAReset()
    {
        var (chunks, error) = await RunAsync(await Client().SendAsync(Call(Request(stream: true, "drop-after=5", includeUsage: true)), CancellationToken.None));

        Assert.Equal("simulated connection reset", Assert.IsType<IOException>(error).Message);
        Assert.Equal(6, chunks.Count);   // the role chunk and five tokens: no finish reason, no usage
        Assert.Equal(5, chunks.Count(IsToken));
        Assert.All(chunks, c => Assert.Null(c.Usage));
    }

    [Fact]
    public async Task DropAfter_Zero_FailsRightAfterTheRoleChunk()
    {
        var (chunks, error) = await RunAsync(await Client().SendAsync(Call(Request(stream: true, "drop-after=0")), CancellationToken.None));

        Assert.IsType<IOException>(error);
        Assert.Equal("assistant", Assert.Single(chunks).Choices[0].Delta.Role);
    }

    [Fact]
    public async Task DropAfter_WithTokenDelay_DeliversEveryTokenBeforeTheFailure()
    {
        var provider = Provider with { Simulator = Provider.Simulator with { TokenDelay = TimeSpan.FromMilliseconds(1) } };
        var (chunks, error) = await RunAsync(await Client(provider).SendAsync(Call(Request(stream: true, "drop-after=3")), CancellationToken.None));

        Assert.IsType<IOException>(error);
        Assert.Equal(3, chunks.Count(IsToken));
    }

    [Fact]
    public async Task DropAfter_NonStreamed_ThrowsAReset()
    {
        await Assert.ThrowsAsync<IOException>(() => Client().SendAsync(Call(Request(stream: false, "drop-after=5")), CancellationToken.None));
    }

    [Fact]
    public async Task EofAfter_CompletesWithoutFinishReasonOrUsage()
    {
        var (chunks, error) = await RunAsync(await Client().SendAsync(Call(Request(stream: true, "eof-after=4", includeUsage: true)), CancellationToken.None));

        Assert.Null(error);
        Assert.Equal(5, chunks.Count);
        Assert.Equal(4, chunks.Count(IsToken));
        Assert.All(chunks, c => Assert.Null(c.Usage));
        Assert.All(chunks, c => Assert.Null(c.Choices[0].FinishReason));
    }

    [Fact]
    public async Task StallAfter_Three_SendsThreeTokensThenNothingUntilCancelled()
    {
        var stream = Assert.IsType<UpstreamStream>(await Client().SendAsync(Call(Request(stream: true, "stall-after=3")), CancellationToken.None));
        var probe = CreateTestProbe();

        var (terminated, kill) = TestSse.Chunks(stream.Body)
            .WatchTermination((_, done) => done)
            .ViaMaterialized(KillSwitches.Single<ChatCompletionChunk>(), Keep.Both)
            .To(Sink.ActorRef<ChatCompletionChunk>(probe.Ref, StreamEnded.Instance, ex => new StreamFailed(ex)))
            .Run(Sys.Materializer());

        Assert.Equal("assistant", (await probe.ExpectMsgAsync<ChatCompletionChunk>()).Choices[0].Delta.Role);
        for (var i = 0; i < 3; i++) Assert.True(IsToken(await probe.ExpectMsgAsync<ChatCompletionChunk>()));
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.False(terminated.IsCompleted);

        kill.Shutdown();   // the consumer goes away: the stalled source must end with it

        await probe.ExpectMsgAsync<StreamEnded>();
        await terminated.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task StallAfter_NonStreamed_NeverAnswersUntilCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var answer = Client().SendAsync(Call(Request(stream: false, "stall-after=3")), cancel.Token);
        await Task.Yield();
        Assert.False(answer.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task FirstByteDelay_AnswersOnlyOnceTheDelayHasPassed()
    {
        var time = new ManualTimeProvider();
        var answer = Client(time: time).SendAsync(Call(Request(stream: false, "first-byte-delay=5s")), CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(answer.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.IsType<UpstreamCompletion>(await answer.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task FirstByteDelay_Cancelled_StopsWaiting()
    {
        var time = new ManualTimeProvider();
        using var cancel = new CancellationTokenSource();
        var answer = Client(time: time).SendAsync(Call(Request(stream: true, "first-byte-delay=5s")), cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, time.ArmedTimers);
    }

    [Fact]
    public async Task FirstByteDelay_LaterAttemptPastTimes_AnswersAtOnce()
    {
        var time = new ManualTimeProvider();
        var answer = Client(time: time).SendAsync(Call(Request(stream: false, "first-byte-delay=5s"), attempt: 1), CancellationToken.None);
        Assert.IsType<UpstreamCompletion>(await answer.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task PrefillRefuse_TrailingAssistant_IsRefusedOnEveryAttempt()
    {
        var response = await Client().SendAsync(Call(Request(stream: true, "prefill=refuse", prefill: "Here"), attempt: 3), CancellationToken.None);

        var failure = Assert.IsType<UpstreamRefusal>(response).Failure;
        Assert.Equal(FailureKind.CallerFault, failure.Kind);
        Assert.Equal(400, failure.Status);
        Assert.Equal("prefill_unsupported", failure.Code);
        Assert.Contains("prefill", failure.Message);
    }

    [Fact]
    public async Task PrefillRefuse_NoTrailingAssistant_Answers()
    {
        var (_, error) = await RunAsync(await Client().SendAsync(Call(Request(stream: true, "prefill=refuse")), CancellationToken.None));
        Assert.Null(error);
    }

    [Fact]
    public async Task Replay_SameRequest_GetsTheSameText()
    {
        var client = Client();
        Assert.Equal(await FullTextAsync(client), await FullTextAsync(client));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(AnswerTokens)]
    public async Task Prefill_EndingOnATokenBoundary_ContinuesWithTheRemainingTokens(int tokensDelivered)
    {
        var client = Client();
        var full = await FullTextAsync(client);
        var (original, _) = await RunAsync(await client.SendAsync(Call(Request(stream: true)), CancellationToken.None));
        var prefill = string.Concat(original.Where(IsToken).Take(tokensDelivered).Select(c => c.Choices[0].Delta.Content));

        var (chunks, error) = await RunAsync(await client.SendAsync(Call(Request(stream: true, prefill: prefill, includeUsage: true)), CancellationToken.None));

        Assert.Null(error);
        Assert.Equal(full, prefill + Text(chunks));
        Assert.Equal(AnswerTokens - tokensDelivered, chunks.Count(IsToken));
        Assert.Equal(AnswerTokens - tokensDelivered, chunks[^1].Usage!.CompletionTokens);
        Assert.Equal("stop", chunks[^2].Choices[0].FinishReason);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(23)]
    public async Task Prefill_EndingMidToken_SendsTheRestOfThatTokenFirst(int characters)
    {
        var client = Client();
        var full = await FullTextAsync(client);
        var prefill = full[..characters];

        var (chunks, error) = await RunAsync(await client.SendAsync(Call(Request(stream: true, prefill: prefill)), CancellationToken.None));

        Assert.Null(error);
        Assert.Equal(full, prefill + Text(chunks));
    }

    [Fact]
    public async Task Prefill_NonStreamed_ReturnsOnlyTheContinuation()
    {
        var client = Client();
        var full = await FullTextAsync(client);
        var prefill = full[..15];

        var completion = Parse(Assert.IsType<UpstreamCompletion>(await client.SendAsync(Call(Request(stream: false, prefill: prefill)), CancellationToken.None)));

        Assert.Equal(full, prefill + completion.Choices[0].Message.Content);
    }

    [Fact]
    public async Task Prefill_NotAPrefixOfTheAnswer_GetsTheWholeAnswer()
    {
        var client = Client();
        var full = await FullTextAsync(client);

        var (chunks, _) = await RunAsync(await client.SendAsync(Call(Request(stream: true, prefill: "Something else entirely")), CancellationToken.None));

        Assert.Equal(full, Text(chunks));
    }

    [Fact]
    public async Task Prefill_WithDropAfter_CountsTokensOfTheContinuation()
    {
        var client = Client();
        var full = await FullTextAsync(client);
        var prefill = full[..10];

        var (chunks, error) = await RunAsync(await client.SendAsync(Call(Request(stream: true, "drop-after=2", prefill)), CancellationToken.None));

        Assert.IsType<IOException>(error);
        Assert.Equal(2, chunks.Count(IsToken));
        Assert.StartsWith(prefill + Text(chunks), full);
    }
}
