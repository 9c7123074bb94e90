using System.Buffers;
using System.Text;
using CsCheck;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Actors.Dialects.Gemini;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Streams;
using Orchestrator.Http;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing (CsCheck) of everything that reads outside input: each front's request reader, realtime
/// frames, the SSE reader, the upstream stream decoders and the config loader. Any input ends in a result or a clear
/// error, never an unhandled exception; errors stay short whatever the input's size. Each target runs
/// <see cref="FuzzInputs.Seconds"/> seconds (ORCHESTRATOR_FUZZ_SECONDS for a longer run); a failure prints its seed
/// and smallest input, which then goes into Fuzz/Corpus/ as a regression case (<see cref="Corpus_Case_StillHandled"/>).
/// </summary>
public sealed class FuzzTests
{
    /// <summary>The longest error message any reader may answer with: a field path and a short quote, never the input.</summary>
    private const int MaxErrorMessage = 600;

    private static string Show(byte[] bytes) => Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 400)));

    internal static void CheckChat(byte[] body) => CheckResult(ChatRequestReader.Parse(new ReadOnlySequence<byte>(body)));

    internal static void CheckMessages(byte[] body)
    {
        var result = MessagesRequestReader.Parse(new ReadOnlySequence<byte>(body));
        CheckResult(result);
        if (result.Request is { } request) Assert.Equal(Dialect.AnthropicMessages, request.Native?.Dialect);
    }

    internal static void CheckResponses(byte[] body)
    {
        var translated = ResponsesRequest.Translate(new ReadOnlySequence<byte>(body));
        Assert.True((translated.ChatBody is null) != (translated.Error is null));
        if (translated.Error is { } error) CheckError(error);
        else CheckResult(ChatRequestReader.Parse(new ReadOnlySequence<byte>(translated.ChatBody!)));
    }

    internal static void CheckGemini(byte[] body)
    {
        var result = GeminiRequestReader.Parse(new ReadOnlySequence<byte>(body), "sim", stream: body.Length % 2 == 0);
        CheckResult(result);
        if (result.Request is { } request) Assert.Equal(Dialect.Gemini, request.Native?.Dialect);
    }

    internal static void CheckRealtime(byte[] frame)
    {
        var command = RealtimeFrames.Parse(frame, "sim");
        if (command is RealtimeInvalid invalid) CheckError(invalid.Error);
        else Assert.True(command is RealtimeCreate or RealtimeCancel, command.GetType().Name);
    }

    private static void CheckResult(ChatRequestReader.Result result)
    {
        Assert.True((result.Request is null) != (result.Error is null), "exactly one of request and error");
        if (result.Error is { } error) CheckError(error);
    }

    private static void CheckError(ApiError error)
    {
        Assert.InRange(error.Status, 400, 499);
        Assert.True(error.Message.Length <= MaxErrorMessage, $"an error of {error.Message.Length} characters");
    }

    [Fact]
    public void ChatRequestReader_AnyBody_RequestOrShortError() =>
        FuzzInputs.Body.Sample(CheckChat, time: FuzzInputs.Seconds, threads: 1, print: Show);

    [Fact]
    public void MessagesFront_AnyBody_RequestOrShortError() =>
        FuzzInputs.Body.Sample(CheckMessages, time: FuzzInputs.Seconds, threads: 1, print: Show);

    [Fact]
    public void ResponsesFront_AnyBody_ChatRequestOrShortError() =>
        FuzzInputs.Body.Sample(CheckResponses, time: FuzzInputs.Seconds, threads: 1, print: Show);

    [Fact]
    public void GeminiFront_AnyBody_RequestOrShortError() =>
        FuzzInputs.GeminiBody.Sample(CheckGemini, time: FuzzInputs.Seconds, threads: 1, print: Show);

    [Fact]
    public void RealtimeFrames_AnyFrame_CommandOrShortError()
    {
        var frames = Gen.Frequency(
            (4, FuzzInputs.Object(3).Select(node =>
            {
                if (node is System.Text.Json.Nodes.JsonObject obj && !obj.ContainsKey("type")) obj["type"] = "chat.completions.create";
                return FuzzInputs.Utf8(node);
            })),
            (1, FuzzInputs.Body));
        frames.Sample(CheckRealtime, time: FuzzInputs.Seconds, threads: 1, print: Show);
    }

    /// <summary>SSE-ish bytes: field names, separators and line ends in any order, split at random points.</summary>
    [Fact]
    public void SseReader_AnyBytesAnySplit_EventsOrLineTooLong()
    {
        var piece = Gen.Frequency(
            (4, Gen.OneOf("data:", "data: ", "event: ", "id: 1", ": comment", "retry: 5", "\n", "\r\n", "\r", "\n\n", "{\"a\":1}", "[DONE]", "\uFEFF", "é")),
            (2, Gen.String[0, 12]),
            (1, Gen.Char.AlphaNumeric.Array[2000, 6000].Select(chars => new string(chars))));
        var input = Gen.Select(piece.Array[0, 60], Gen.Int[1, 64].Array[1, 20]);
        input.Sample((pieces, splits) =>
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(pieces));
            using var reader = new SseReader(4096);
            var at = 0;
            var s = 0;
            try
            {
                while (at < bytes.Length)
                {
                    var take = Math.Min(splits[s++ % splits.Length], bytes.Length - at);
                    reader.Append(bytes.AsSpan(at, take));
                    at += take;
                    while (reader.TryReadData(out var data)) Assert.True(data.Length <= 4096 * 2);
                }
            }
            catch (SseLineTooLongException)
            {
                // The one way an SSE body may fail: a line or event past max-event-bytes.
            }
        }, time: FuzzInputs.Seconds, threads: 1);
    }

    /// <summary>Any event data at the Anthropic, Gemini and chat-chunk decoders: events or nothing, never an exception.</summary>
    [Fact]
    public void StreamDecoders_AnyEventData_EventsOrNothing()
    {
        var data = Gen.Frequency(
            (5, FuzzInputs.Object(3).Select(node =>
            {
                if (node is System.Text.Json.Nodes.JsonObject obj && !obj.ContainsKey("type"))
                    obj["type"] = new[]
                    {
                        "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "error",
                        "response.created", "response.output_text.delta", "response.output_item.added", "response.function_call_arguments.delta",
                        "response.output_item.done", "response.completed", "response.incomplete", "response.failed",
                    }[obj.Count % 14];
                return FuzzInputs.Utf8(node);
            })),
            (2, FuzzInputs.Body));
        data.Array[1, 12].Sample(events =>
        {
            var anthropic = new AnthropicStreamDecoder();
            var gemini = new GeminiStreamDecoder("gemini-fuzz");
            var responses = new ResponsesStreamDecoder();
            var chat = new ChatChunkReader();
            var writer = new ChatChunkWriter();
            var output = new ArrayBufferWriter<byte>();
            var decoded = new List<AnswerEvent>();
            foreach (var e in events)
            {
                anthropic.Decode(e, decoded);
                gemini.Decode(e, decoded);
                responses.Decode(e, decoded);
                chat.Read(e, decoded);
            }
            // Whatever came out can be written as chat chunks (what the answer stage does with it).
            foreach (var answerEvent in decoded) writer.Write(answerEvent, output);
        }, time: FuzzInputs.Seconds, threads: 1);
    }

    /// <summary>Config text a user might write, right or wrong: settings or an InvalidConfigException naming the problem.</summary>
    [Fact]
    public void ConfigLoader_AnyUserFile_SettingsOrInvalidConfig()
    {
        var line = Gen.Frequency(
            (6, Gen.OneOf(
                "orchestrator {", "}", "http {", "upstream {", "model-defaults {", "providers {", "models {", "realtime {", "breaker {",
                "p1 { kind = simulator }", "p2 { kind = openai, base-url = \"http://127.0.0.1:9\" }", "p3 { kind = anthropic }",
                "\"m\" { routes = [ { provider = p1 } ] }", "\"m\" { routes = [] }", "idle-timeout = 2s", "idle-timeout = -1s",
                "max-retries = 1000", "max-retries = x", "listen = \"ftp://x\"", "http-version = 3", "keys = [\"k\"]", "kind = nope",
                "reply-timeout = 0s", "price { input = -1 }", "resume-strategy = \"nope\"", "${?NOPE}", "${NOPE}", "=", "{", "[", "\"")),
            (1, Gen.String[0, 16]));
        line.Array[0, 14].Sample(lines =>
        {
            CheckConfig(string.Join('\n', lines));
        }, time: FuzzInputs.Seconds, threads: 1, print: lines => string.Join('\n', lines));
    }

    internal static void CheckConfig(string text)
    {
            // Bounded: a config that makes the loader spin is a failure with its text, not a hung test run.
            var load = Task.Run(() =>
            {
                try
                {
                    OrchestratorSettings.FromConfig(HoconLoader.Load(TestSettings.DefaultsText, text, "fuzz.conf"));
                }
                catch (InvalidConfigException ex)
                {
                    Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                }
            });
            Assert.True(load.Wait(TimeSpan.FromSeconds(5)), "the config loader did not finish within 5 s");
    }

    public static TheoryData<string> CorpusCases()
    {
        var data = new TheoryData<string>();
        var root = Path.Combine(AppContext.BaseDirectory, "Fuzz", "Corpus");
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order())
            data.Add(Path.GetRelativePath(root, file));
        return data;
    }

    /// <summary>Every input that ever failed a fuzz target (and a seed corpus), by target folder.</summary>
    [Theory]
    [MemberData(nameof(CorpusCases))]
    public void Corpus_Case_StillHandled(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", "Corpus", file));
        var target = file.Split(Path.DirectorySeparatorChar)[0];
        switch (target)
        {
            case "chat": CheckChat(bytes); break;
            case "messages": CheckMessages(bytes); break;
            case "responses": CheckResponses(bytes); break;
            case "gemini": CheckGemini(bytes); break;
            case "realtime": CheckRealtime(bytes); break;
            case "config": CheckConfig(Encoding.UTF8.GetString(bytes)); break;
            default: throw new InvalidOperationException($"no fuzz target '{target}'");
        }
    }
}
