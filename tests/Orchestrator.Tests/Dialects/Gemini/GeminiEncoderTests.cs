using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchestrator.Actors.Fronts.Gemini;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Tests.Dialects.Gemini;

public sealed class GeminiEncoderTests
{
    private static string EncodeRaw(IEnumerable<AnswerEvent> events, bool sse = true, ApiError? failure = null)
    {
        var encoder = new GeminiEncoder("gemini-front", sse, inputTokensEstimate: 42);
        var output = new ArrayBufferWriter<byte>();
        foreach (var e in events) encoder.Encode(e, output);
        if (failure is null) encoder.Complete(output);
        else encoder.Fail(failure, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>
    /// Reads the SSE the way the google-genai SDK does (<c>^\s*data: (.*)(\n\n|\r\r|\r\n\r\n)</c> from the start of
    /// its buffer), so any byte it would stall on fails here: all of the output must be consumed.
    /// </summary>
    private static List<JsonNode> ParseLikeGenAiSdk(string sse)
    {
        // JavaScript's '.' matches no line terminator: \n, \r, U+2028, U+2029.
        var responseLine = new Regex(@"^\s*data: ([^\n\r\u2028\u2029]*)(?:\n\n|\r\r|\r\n\r\n)");
        var parsed = new List<JsonNode>();
        for (var match = responseLine.Match(sse); match.Success; match = responseLine.Match(sse))
        {
            parsed.Add(JsonNode.Parse(match.Groups[1].Value)!);
            sse = sse[match.Length..];
        }
        Assert.Equal("", sse);
        return parsed;
    }

    private static List<JsonNode> Encode(params AnswerEvent[] events) => ParseLikeGenAiSdk(EncodeRaw(events));

    private static JsonNode? Part(JsonNode response) => response["candidates"]![0]!["content"]!["parts"]![0];

    [Fact]
    public void Encode_Text_OneResponsePerDeltaThenFinishWithUsage()
    {
        var responses = Encode(
            new MessageStarted("chatcmpl-1", "upstream-model", 1),
            new TextDelta(0, "Hel"), new TextDelta(0, "lo"),
            new Finished(0, FinishReason.Stop),
            new UsageReported(new TokenUsage(10, 7, ReasoningTokens: 3)));
        Assert.Equal(3, responses.Count);
        Assert.Equal("""{"text":"Hel"}""", Part(responses[0])!.ToJsonString());
        Assert.Equal("model", (string?)responses[0]["candidates"]![0]!["content"]!["role"]);
        Assert.Equal("gemini-front", (string?)responses[0]["modelVersion"]);
        Assert.Equal("chatcmpl-1", (string?)responses[0]["responseId"]);
        var last = responses[2];
        Assert.Equal("STOP", (string?)last["candidates"]![0]!["finishReason"]);
        Assert.Empty(last["candidates"]![0]!["content"]!["parts"]!.AsArray());
        Assert.Equal("""{"promptTokenCount":10,"candidatesTokenCount":4,"totalTokenCount":17,"thoughtsTokenCount":3}""", last["usageMetadata"]!.ToJsonString());
        Assert.Null(responses[0]["usageMetadata"]);
        Assert.Null(responses[0]["candidates"]![0]!["finishReason"]);
    }

    [Fact]
    public void Encode_ToolCall_OnePartOnceArgumentsAreWhole()
    {
        var responses = Encode(
            new MessageStarted("id", "m", 1),
            new ToolCallStarted(0, 0, "call_1", "read_file"),
            new ToolArgumentsDelta(0, 0, "{\"file_pa"), new ToolArgumentsDelta(0, 0, "th\":\"a.txt\"}"),
            new ToolCallEnded(0, 0),
            new ToolCallStarted(0, 1, "call_2", "list_directory"),
            new ToolCallEnded(0, 1),
            new Finished(0, FinishReason.ToolCalls));
        Assert.Equal(3, responses.Count);
        Assert.Equal("""{"functionCall":{"name":"read_file","args":{"file_path":"a.txt"}}}""", Part(responses[0])!.ToJsonString());
        Assert.Equal("""{"functionCall":{"name":"list_directory","args":{}}}""", Part(responses[1])!.ToJsonString());
        Assert.Equal("STOP", (string?)responses[2]["candidates"]![0]!["finishReason"]);
    }

    [Fact]
    public void Encode_MalformedArguments_ArgsAreAnEmptyObject()
    {
        var responses = Encode(new ToolCallStarted(0, 0, "c", "f"), new ToolArgumentsDelta(0, 0, "{not json"), new ToolCallEnded(0, 0));
        Assert.Equal("""{"functionCall":{"name":"f","args":{}}}""", Part(responses[0])!.ToJsonString());
    }

    [Fact]
    public void Encode_ThinkingAndSignature_ThoughtPartsAndSignatureOnTheCall()
    {
        var responses = Encode(
            new ThinkingDelta(0, "hmm"),
            new ThinkingSignature(0, "sig-1"),
            new ToolCallStarted(0, 0, "c", "f"), new ToolArgumentsDelta(0, 0, "{}"), new ToolCallEnded(0, 0),
            new Finished(0, FinishReason.ToolCalls));
        Assert.Equal("""{"text":"hmm","thought":true}""", Part(responses[0])!.ToJsonString());
        Assert.Equal("""{"functionCall":{"name":"f","args":{}},"thoughtSignature":"sig-1"}""", Part(responses[1])!.ToJsonString());
    }

    [Fact]
    public void Encode_SignatureAtTheEnd_SentOnAPartOfItsOwn()
    {
        var responses = Encode(new TextDelta(0, "a"), new ThinkingSignature(0, "sig-2"), new Finished(0, FinishReason.Stop));
        Assert.Equal("""{"text":"","thoughtSignature":"sig-2"}""", Part(responses[^1])!.ToJsonString());
    }

    [Theory]
    [InlineData(FinishReason.Stop, "STOP")]
    [InlineData(FinishReason.Length, "MAX_TOKENS")]
    [InlineData(FinishReason.ToolCalls, "STOP")]
    [InlineData(FinishReason.ContentFilter, "SAFETY")]
    public void Encode_FinishReason_InGeminiWords(FinishReason reason, string gemini)
    {
        var responses = Encode(new TextDelta(0, "x"), new Finished(0, reason));
        Assert.Equal(gemini, (string?)responses[^1]["candidates"]![0]!["finishReason"]);
    }

    [Fact]
    public void Encode_NoUsage_EstimateReported()
    {
        var responses = Encode(new TextDelta(0, "12345678"), new Finished(0, FinishReason.Stop));
        Assert.Equal(42, (int)responses[^1]["usageMetadata"]!["promptTokenCount"]!);
        Assert.Equal(2, (int)responses[^1]["usageMetadata"]!["candidatesTokenCount"]!);
    }

    [Fact]
    public void Encode_LineSeparatorsInText_EscapedSoTheSdkReadsTheEvent()
    {
        var responses = Encode(new TextDelta(0, "a\u2028b\u2029c\r\nd"), new Finished(0, FinishReason.Stop));
        Assert.Equal("a\u2028b\u2029c\r\nd", (string?)Part(responses[0])!["text"]);
    }

    [Fact]
    public void Encode_EmptyText_NoEmptyTextPart()
    {
        // Gemini CLI holds a lone {"text":""} part for an invalid response.
        var responses = Encode(new TextDelta(0, ""), new TextDelta(0, "x"), new Finished(0, FinishReason.Stop));
        Assert.Equal(2, responses.Count);
    }

    [Fact]
    public void Encode_SeveralChoices_CandidatesByIndex()
    {
        var responses = Encode(new TextDelta(0, "a"), new TextDelta(1, "b"), new Finished(0, FinishReason.Stop), new Finished(1, FinishReason.Length));
        Assert.Equal(1, (int)responses[1]["candidates"]![0]!["index"]!);
        var last = responses[^1]["candidates"]!.AsArray();
        Assert.Equal(2, last.Count);
        Assert.Equal("MAX_TOKENS", (string?)last[1]!["finishReason"]);
    }

    [Fact]
    public void Fail_AfterText_ErrorResponseAndNoFinish()
    {
        var raw = EncodeRaw([new TextDelta(0, "par")], failure: new ApiError(503, "No upstream could finish.", "api_error", null, null));
        var responses = ParseLikeGenAiSdk(raw);
        Assert.Equal("""{"error":{"code":503,"message":"No upstream could finish.","status":"UNAVAILABLE"}}""", responses[^1].ToJsonString());
        Assert.DoesNotContain("finishReason", raw);
    }

    [Fact]
    public void KeepAlive_BlankLine_SkippedBySdkReader()
    {
        var encoder = new GeminiEncoder("m", sse: true);
        var keepAlive = Encoding.UTF8.GetString(encoder.KeepAlive);
        var raw = keepAlive + EncodeRaw([new TextDelta(0, "a")]).Replace("\r\n\r\ndata: ", "\r\n\r\n" + keepAlive + "data: ");
        Assert.Equal(2, ParseLikeGenAiSdk(raw).Count);
    }

    [Fact]
    public void Encode_JsonArrayForm_OneArrayOfResponses()
    {
        var raw = EncodeRaw([new TextDelta(0, "a"), new TextDelta(0, "b"), new Finished(0, FinishReason.Stop)], sse: false);
        var array = JsonNode.Parse(raw)!.AsArray();
        Assert.Equal(3, array.Count);
        Assert.Equal("a", (string?)Part(array[0]!)!["text"]);
        Assert.Equal("STOP", (string?)array[2]!["candidates"]![0]!["finishReason"]);
    }

    [Fact]
    public void Fail_JsonArrayForm_ErrorIsTheLastElement()
    {
        var raw = EncodeRaw([new TextDelta(0, "a")], sse: false, failure: new ApiError(504, "Too slow.", "api_error", null, null));
        var array = JsonNode.Parse(raw)!.AsArray();
        Assert.Equal("DEADLINE_EXCEEDED", (string?)array[^1]!["error"]!["status"]);
    }

    [Fact]
    public void Fail_JsonArrayFormBeforeAnything_StillOneArray()
    {
        var raw = EncodeRaw([], sse: false, failure: new ApiError(429, "Slow down.", "rate_limit", null, null));
        Assert.Equal("RESOURCE_EXHAUSTED", (string?)JsonNode.Parse(raw)!.AsArray()[0]!["error"]!["status"]);
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(401, "UNAUTHENTICATED")]
    [InlineData(403, "PERMISSION_DENIED")]
    [InlineData(404, "NOT_FOUND")]
    [InlineData(429, "RESOURCE_EXHAUSTED")]
    [InlineData(500, "INTERNAL")]
    [InlineData(502, "INTERNAL")]
    [InlineData(503, "UNAVAILABLE")]
    [InlineData(504, "DEADLINE_EXCEEDED")]
    public void Errors_Status_GoogleName(int status, string name) => Assert.Equal(name, GeminiFrontErrors.StatusOf(status));

    [Fact]
    public void Completion_ChatCompletion_OneGenerateContentResponse()
    {
        var chat = """
            {"id":"chatcmpl-9","object":"chat.completion","model":"up","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
              "content":"Let me look.","reasoning_content":"think","reasoning_signature":"sig",
              "tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"file_path\":\"a\"}"}}]}}],
             "usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28,"prompt_tokens_details":{"cached_tokens":5},"completion_tokens_details":{"reasoning_tokens":2}}}
            """;
        var response = JsonNode.Parse(GeminiFrontCompletion.Translate(Encoding.UTF8.GetBytes(chat), "gemini-front", 1))!;
        Assert.Equal("""{"candidates":[{"content":{"role":"model","parts":[{"text":"think","thought":true},{"text":"Let me look."},{"functionCall":{"name":"read_file","args":{"file_path":"a"}},"thoughtSignature":"sig"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":6,"totalTokenCount":28,"cachedContentTokenCount":5,"thoughtsTokenCount":2},"modelVersion":"gemini-front","responseId":"chatcmpl-9"}""",
            response.ToJsonString());
    }

    [Fact]
    public void Completion_LengthWithoutUsage_MaxTokensAndEstimate()
    {
        var chat = """{"id":"x","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"12345678"}}]}""";
        var response = JsonNode.Parse(GeminiFrontCompletion.Translate(Encoding.UTF8.GetBytes(chat), "m", 33))!;
        Assert.Equal("MAX_TOKENS", (string?)response["candidates"]![0]!["finishReason"]);
        Assert.Equal(33, (int)response["usageMetadata"]!["promptTokenCount"]!);
    }
}
