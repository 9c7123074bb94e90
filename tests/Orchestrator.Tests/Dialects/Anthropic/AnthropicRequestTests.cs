using System.Text.Json;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Messages.Chat;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Dialects.Anthropic;

/// <summary>An OpenAI chat body as an Anthropic Messages body, rule by rule; every result must pass the fake API's checks.</summary>
public sealed class AnthropicRequestTests
{
    private static JsonElement Translate(string body, int? maxTokens = null, bool stream = true, int maxTokensDefault = 4096, NativeRequest? native = null)
    {
        var request = new ChatRequest("client-model", stream, false, maxTokens, Json(body)) { Native = native };
        var translated = Json(System.Text.Encoding.UTF8.GetString(AnthropicRequest.Write(request, "claude-up", maxTokensDefault)));
        Assert.Null(FakeAnthropic.Validate(translated));
        return translated;
    }

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private static string Raw(JsonElement element) => JsonSerializer.Serialize(element);

    [Fact]
    public void Translate_SimpleChat_ModelStreamAndMaxTokensDefault()
    {
        var body = Translate("""{"model":"client-model","stream":true,"messages":[{"role":"user","content":"hi"}]}""", maxTokensDefault: 1234);

        Assert.Equal("claude-up", body.GetProperty("model").GetString());
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.Equal(1234, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal("""[{"role":"user","content":[{"type":"text","text":"hi"}]}]""", Raw(body.GetProperty("messages")));
    }

    [Fact]
    public void Translate_RequestMaxTokens_WinsOverTheDefault()
    {
        var body = Translate("""{"model":"m","max_completion_tokens":77,"messages":[{"role":"user","content":"hi"}]}""", maxTokens: 77, stream: false);

        Assert.Equal(77, body.GetProperty("max_tokens").GetInt32());
        Assert.False(body.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public void Translate_OneSystemMessage_IsTheSystemString()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}""");

        Assert.Equal("Be brief.", body.GetProperty("system").GetString());
        Assert.Equal(1, body.GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public void Translate_SystemAndDeveloperMessages_JoinedAsTextBlocks()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"system","content":"One."},
              {"role":"developer","content":[{"type":"text","text":"Two."},{"type":"text","text":"Three."}]},
              {"role":"user","content":"hi"}]}
            """);

        Assert.Equal("""[{"type":"text","text":"One."},{"type":"text","text":"Two."},{"type":"text","text":"Three."}]""", Raw(body.GetProperty("system")));
    }

    [Fact]
    public void Translate_ConsecutiveSameRole_MergedSoRolesAlternate()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"one"},{"role":"user","content":"two"},
              {"role":"assistant","content":"three"},{"role":"assistant","content":"four"},
              {"role":"user","content":"five"}]}
            """);

        Assert.Equal(
            """[{"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]},""" +
            """{"role":"assistant","content":[{"type":"text","text":"three"},{"type":"text","text":"four"}]},""" +
            """{"role":"user","content":[{"type":"text","text":"five"}]}]""",
            Raw(body.GetProperty("messages")));
    }

    [Fact]
    public void Translate_ToolCallsAndResults_ToolUseAndToolResultBlocks()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"weather and time?"},
              {"role":"assistant","content":"Let me check.","tool_calls":[
                {"id":"toolu_A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"toolu_B","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"toolu_A","content":"18C"},
              {"role":"tool","tool_call_id":"toolu_B","content":[{"type":"text","text":"noon"}]},
              {"role":"user","content":"thanks"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
                      {"type":"function","function":{"name":"get_time","description":"Now."}}]}
            """);

        var messages = body.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal(
            """{"role":"assistant","content":[{"type":"text","text":"Let me check."},""" +
            """{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{"city":"Paris"}},""" +
            """{"type":"tool_use","id":"toolu_B","name":"get_time","input":{}}]}""",
            Raw(messages[1]));
        Assert.Equal(
            """{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_A","content":"18C"},""" +
            """{"type":"tool_result","tool_use_id":"toolu_B","content":[{"type":"text","text":"noon"}]},""" +
            """{"type":"text","text":"thanks"}]}""",
            Raw(messages[2]));
        Assert.Equal(
            """[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},""" +
            """{"name":"get_time","description":"Now.","input_schema":{"type":"object"}}]""",
            Raw(body.GetProperty("tools")));
    }

    [Fact]
    public void Translate_UserTextBeforeToolResult_ToolResultsComeFirst()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"user","content":"note"},
              {"role":"tool","tool_call_id":"t1","content":"done"}],
             "tools":[{"type":"function","function":{"name":"f"}}]}
            """);

        var last = body.GetProperty("messages")[2].GetProperty("content");
        Assert.Equal("tool_result", last[0].GetProperty("type").GetString());
        Assert.Equal("text", last[1].GetProperty("type").GetString());
    }

    [Fact]
    public void Translate_SignedReasoning_LeadingThinkingBlock()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"27*453?"},
              {"role":"assistant","content":"12231","reasoning_content":"27*453 = 12231","reasoning_signature":"sig-1"},
              {"role":"user","content":"sure?"}]}
            """);

        Assert.Equal(
            """[{"type":"thinking","thinking":"27*453 = 12231","signature":"sig-1"},{"type":"text","text":"12231"}]""",
            Raw(body.GetProperty("messages")[1].GetProperty("content")));
    }

    [Fact]
    public void Translate_UnsignedReasoning_Dropped()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","reasoning_content":"hmm"},{"role":"user","content":"q2"}]}
            """);

        Assert.Equal("""[{"type":"text","text":"a"}]""", Raw(body.GetProperty("messages")[1].GetProperty("content")));
    }

    [Fact]
    public void Translate_ImageParts_Base64AndUrlSources()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"text","text":"what is this?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg","detail":"high"}},
              {"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}
            """);

        Assert.Equal(
            """[{"type":"text","text":"what is this?"},""" +
            """{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},""" +
            """{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]""",
            Raw(body.GetProperty("messages")[0].GetProperty("content")));
    }

    [Fact]
    public void Translate_Parameters_MappedAndOpenAiOnlyFieldsDropped()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":"hi"}],"stop":"END","temperature":1.7,"top_p":0.9,"user":"u-42",
             "n":1,"stream_options":{"include_usage":true},"logprobs":false,"top_logprobs":2,"response_format":{"type":"text"},
             "frequency_penalty":0.5,"presence_penalty":0.1,"seed":7,"logit_bias":{},"store":false,"service_tier":"auto","metadata":{"a":"b"}}
            """);

        var names = body.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["model", "max_tokens", "stream", "messages", "temperature", "top_p", "stop_sequences", "metadata"], names);
        Assert.Equal(1, body.GetProperty("temperature").GetDouble());   // clamped from OpenAI's 0..2
        Assert.Equal(0.9, body.GetProperty("top_p").GetDouble());
        Assert.Equal("""["END"]""", Raw(body.GetProperty("stop_sequences")));
        Assert.Equal("""{"user_id":"u-42"}""", Raw(body.GetProperty("metadata")));
    }

    [Fact]
    public void Translate_StopArray_StopSequences()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b"]}""");

        Assert.Equal("""["a","b"]""", Raw(body.GetProperty("stop_sequences")));
    }

    [Theory]
    [InlineData("\"auto\"", null, """{"type":"auto"}""")]
    [InlineData("\"required\"", null, """{"type":"any"}""")]
    [InlineData("\"none\"", null, """{"type":"none"}""")]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", null, """{"type":"tool","name":"f"}""")]
    [InlineData("\"required\"", "false", """{"type":"any","disable_parallel_tool_use":true}""")]
    [InlineData(null, "false", """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData(null, "true", null)]
    public void Translate_ToolChoice_AnthropicForm(string? toolChoice, string? parallel, string? expected)
    {
        var extra = (toolChoice is null ? "" : $",\"tool_choice\":{toolChoice}") + (parallel is null ? "" : $",\"parallel_tool_calls\":{parallel}");
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]""" + extra + "}");

        if (expected is null) Assert.False(body.TryGetProperty("tool_choice", out _));
        else Assert.Equal(expected, Raw(body.GetProperty("tool_choice")));
    }

    [Fact]
    public void Translate_ToolChoiceWithoutTools_LeftOut()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"auto"}""");

        Assert.False(body.TryGetProperty("tool_choice", out _));
        Assert.False(body.TryGetProperty("tools", out _));
    }

    [Fact]
    public void Translate_TrailingAssistant_StaysLastWithoutTrailingWhitespace()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"count"},{"role":"assistant","content":"one, two, "}]}""");

        var messages = body.GetProperty("messages");
        Assert.Equal("""{"role":"assistant","content":[{"type":"text","text":"one, two,"}]}""", Raw(messages[messages.GetArrayLength() - 1]));
    }

    [Fact]
    public void Translate_MalformedToolArguments_EmptyInput()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":"go"},
              {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},
              {"role":"tool","tool_call_id":"t1","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}
            """);

        Assert.Equal("{}", Raw(body.GetProperty("messages")[1].GetProperty("content")[0].GetProperty("input")));
    }

    [Fact]
    public void Write_NativeMessagesBody_SentAsItCameWithModelAndStreamRewritten()
    {
        const string native = """{"model":"claude-alias","max_tokens":50,"stream":false,"system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":1024}}""";

        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"translated"}]}""", native: new NativeRequest(Dialect.AnthropicMessages, Json(native)));

        Assert.Equal(
            """{"model":"claude-up","stream":true,"max_tokens":50,"system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":1024}}""",
            Raw(body));
    }

    [Fact]
    public void Write_NativeOfAnotherDialect_Translated()
    {
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"translated"}]}""",
            native: new NativeRequest(Dialect.OpenAiResponses, Json("""{"model":"x","input":"native"}""")));

        Assert.Equal("translated", body.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }
}
