using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Http;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Tests.Dialects.Responses;

/// <summary>What Codex sends in code mode (custom and namespace tools, additional_tools items, encrypted reasoning) on a translated route.</summary>
public sealed partial class ResponsesCodexTests
{
    private const string Grammar = "start: SOURCE\nSOURCE: /[\\s\\S]+/";

    private static readonly string CodexTools = """
        [{"type":"namespace","name":"functions","description":"","tools":[
            {"type":"custom","name":"exec","description":"Run JavaScript","format":{"type":"grammar","syntax":"lark","definition":GRAMMAR}},
            {"type":"function","name":"wait","strict":false,"parameters":{"type":"object","properties":{"cell_id":{"type":"string"}}}}]},
         {"type":"namespace","name":"clock","description":"","tools":[{"type":"function","name":"sleep","parameters":{"type":"object","properties":{}}}]},
         {"type":"web_search"}]
        """.Replace("GRAMMAR", JsonSerializer.Serialize(Grammar));

    private static ResponsesRequest.Result Translate(string json) =>
        ResponsesRequest.Translate(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));

    private static (JsonElement Chat, ResponsesRequest.Result Result) Chat(string json)
    {
        var result = Translate(json);
        Assert.Null(result.Error);
        Assert.Null(ChatRequestReader.Parse(new ReadOnlySequence<byte>(result.ChatBody!)).Error);
        return (JsonDocument.Parse(result.ChatBody).RootElement, result);
    }

    private static JsonElement Function(JsonElement chat, string name) =>
        chat.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function")).Single(f => f.GetProperty("name").GetString() == name);

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex ChatName();

    [Fact]
    public void AdditionalTools_AreReadAsTools_AndAreNoMessage()
    {
        var (chat, result) = Chat($$"""
            {"model":"gpt-6.1-sol","store":false,"stream":true,"tool_choice":"auto","parallel_tool_calls":false,
             "input":[{"type":"additional_tools","id":"at_1","role":"developer","tools":{{CodexTools}}},
                      {"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]}
            """);
        var messages = chat.GetProperty("messages");
        Assert.Equal(1, messages.GetArrayLength());
        Assert.Equal(["exec", "wait", "clock__sleep"], chat.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString()));
        Assert.Equal("auto", chat.GetProperty("tool_choice").GetString());
        Assert.False(chat.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Contains("input[0].tools[2]:web_search", result.Dropped);
    }

    [Fact]
    public void CustomTool_IsAFunctionOfOneString_WithItsGrammarInTheDescription()
    {
        var (chat, _) = Chat($$"""{"model":"m","input":"x","tools":{{CodexTools}}}""");
        var exec = Function(chat, "exec");
        Assert.StartsWith("Run JavaScript", exec.GetProperty("description").GetString());
        Assert.Contains(Grammar, exec.GetProperty("description").GetString());
        Assert.Contains("lark", exec.GetProperty("description").GetString());
        var parameters = exec.GetProperty("parameters");
        Assert.Equal("object", parameters.GetProperty("type").GetString());
        Assert.Equal("string", parameters.GetProperty("properties").GetProperty("input").GetProperty("type").GetString());
        Assert.Equal(["input"], parameters.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public void NamespaceTools_AreFlattened_WithinChatsNameRule()
    {
        var longName = new string('n', 70);
        var (chat, result) = Chat($$$"""
            {"model":"m","input":"x","tools":[
              {"type":"namespace","name":"mcp.server","tools":[{"type":"function","name":"get profile","parameters":{"type":"object"}}]},
              {"type":"namespace","name":"{{{longName}}}","tools":[{"type":"function","name":"a"},{"type":"function","name":"b"}]}]}
            """);
        var names = chat.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString()!).ToList();
        Assert.Equal("mcp_server__get_profile", names[0]);
        Assert.All(names, name => Assert.Matches(ChatName(), name));
        Assert.Equal(3, names.Distinct().Count());
        // The same declaration gets the same names on the next turn.
        Assert.Equal(names, Translate(Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(result.Body))).Tools.Tools.Select(t => t.ChatName));
        Assert.Equal(("mcp.server", "get profile"), (result.Tools.ByChatName(names[0])!.Namespace, result.Tools.ByChatName(names[0])!.Name));
    }

    [Theory]
    [InlineData("web_search")]
    [InlineData("web_search_preview")]
    [InlineData("local_shell")]
    [InlineData("image_generation")]
    [InlineData("tool_search")]
    [InlineData("file_search")]
    [InlineData("code_interpreter")]
    [InlineData("computer_use_preview")]
    [InlineData("mcp")]
    [InlineData("a_tool_from_next_year")]
    public void HostedTools_AreDroppedAndNamed(string type)
    {
        var (chat, result) = Chat($$$"""{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"{{{type}}}","server_label":"s"}],"tool_choice":{"type":"{{{type}}}"}}""");
        Assert.Equal(["f"], chat.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString()));
        Assert.Contains($"tools[1]:{type}", result.Dropped);
        Assert.Contains($"tool_choice:{type}", result.Dropped);
        Assert.False(chat.TryGetProperty("tool_choice", out _));
    }

    [Fact]
    public void CustomToolCallAndItsOutput_GoUpAsAToolCallWithItsInputWrapped()
    {
        const string js = "const r = await tools.exec_command({cmd: \"cat token.txt\"});\ntext(r.output);";
        var (chat, _) = Chat($$"""
            {"model":"m","input":[
              {"type":"additional_tools","tools":{{CodexTools}}},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"read it"}]},
              {"type":"reasoning","id":"rs_1","summary":[],"content":null,"encrypted_content":"gAAAAABopenai-only"},
              {"type":"custom_tool_call","id":"ctc_1","status":"completed","call_id":"call_1","name":"exec","namespace":"functions","input":{{JsonSerializer.Serialize(js)}}},
              {"type":"function_call","call_id":"call_2","name":"sleep","namespace":"clock","arguments":"{}"},
              {"type":"custom_tool_call_output","id":"ctco_1","call_id":"call_1","output":[{"type":"input_text","text":"Script completed\n"},{"type":"input_text","text":"tok-1\n"},{"type":"input_image","image_url":"data:image/png;base64,AA"}]},
              {"type":"function_call_output","call_id":"call_2","output":"slept"}]}
            """);
        var messages = chat.GetProperty("messages");
        Assert.Equal(4, messages.GetArrayLength());
        var assistant = messages[1];
        Assert.False(assistant.TryGetProperty("reasoning_signature", out _));   // OpenAI's encrypted reasoning is no use elsewhere
        var calls = assistant.GetProperty("tool_calls");
        Assert.Equal("exec", calls[0].GetProperty("function").GetProperty("name").GetString());
        var arguments = JsonDocument.Parse(calls[0].GetProperty("function").GetProperty("arguments").GetString()!).RootElement;
        Assert.Equal(js, arguments.GetProperty("input").GetString());
        Assert.Equal("clock__sleep", calls[1].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("call_1", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("Script completed\ntok-1\n", messages[2].GetProperty("content").GetString());
        Assert.Equal("slept", messages[3].GetProperty("content").GetString());
    }

    [Fact]
    public void EncryptedReasoning_OfEveryShape_IsNeverAnError()
    {
        foreach (var item in (string[])[
            """{"type":"reasoning","summary":[],"encrypted_content":"gAAAA"}""",
            """{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thought"}],"content":null,"encrypted_content":null}""",
            """{"type":"reasoning","summary":[],"encrypted_content":"orc1.sig"}""",
            """{"type":"reasoning"}"""])
        {
            var result = Translate($$"""{"model":"m","input":[{"role":"user","content":"q"},{{item}},{"role":"assistant","content":"a"},{"role":"user","content":"q2"}]}""");
            Assert.Null(result.Error);
        }
        var (chat, _) = Chat("""{"model":"m","input":[{"role":"user","content":"q"},{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"t"}],"encrypted_content":"orc1.sig"},{"role":"assistant","content":"a"}]}""");
        Assert.Equal("sig", chat.GetProperty("messages")[1].GetProperty("reasoning_signature").GetString());   // ours comes back as it was
    }

    [Fact]
    public void Stateful_IsForANativeRouteOnly_SayingWhy()
    {
        foreach (var json in (string[])["""{"model":"m","input":"x","store":true,"previous_response_id":"resp_1"}""", """{"model":"m","input":"x","background":true}"""])
        {
            var result = Translate(json);
            Assert.Null(result.Error);
            Assert.Contains("stateless", result.OnlyNative!.Message);
        }
    }

    /// <summary>The answer's events, by type, and the items they carry.</summary>
    private static List<JsonElement> Encode(ResponsesToolMap tools, params AnswerEvent[] answer)
    {
        var encoder = new ResponsesEncoder(ResponseEcho.None("m"), 1700000000, "abc", tools);
        var output = new ArrayBufferWriter<byte>();
        foreach (var e in answer) encoder.Encode(e, output);
        encoder.Complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => JsonDocument.Parse(block.Split('\n')[1]["data: ".Length..]).RootElement).ToList();
    }

    [Fact]
    public void Encoder_CallOfACustomTool_IsACustomToolCallWithItsInputUnwrapped()
    {
        var tools = Translate($$"""{"model":"m","input":"x","tools":{{CodexTools}}}""").Tools;
        const string js = "text(\"a\\\"b\");";
        var arguments = JsonSerializer.Serialize(new Dictionary<string, string> { ["input"] = js });
        var events = Encode(tools,
            new MessageStarted("c", "m", 1),
            new ToolCallStarted(0, 0, "call_9", "exec"),
            new ToolArgumentsDelta(0, 0, arguments[..7]),
            new ToolArgumentsDelta(0, 0, arguments[7..]),
            new ToolCallEnded(0, 0),
            new ToolCallStarted(0, 1, "call_10", "clock__sleep"),
            new ToolArgumentsDelta(0, 1, "{}"),
            new ToolCallEnded(0, 1),
            new Finished(0, FinishReason.ToolCalls),
            new UsageReported(new TokenUsage(10, 5)));

        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
            "response.completed",
        ], types);
        var added = events[2].GetProperty("item");
        Assert.Equal("custom_tool_call", added.GetProperty("type").GetString());
        Assert.Equal("call_9", added.GetProperty("call_id").GetString());
        Assert.Equal("exec", added.GetProperty("name").GetString());
        Assert.Equal("", added.GetProperty("input").GetString());
        Assert.Equal(js, events[3].GetProperty("delta").GetString());
        Assert.Equal(js, events[4].GetProperty("input").GetString());
        var done = events[5].GetProperty("item");
        Assert.Equal(js, done.GetProperty("input").GetString());
        Assert.Equal("functions", done.GetProperty("namespace").GetString());

        var sleep = events[9].GetProperty("item");
        Assert.Equal("function_call", sleep.GetProperty("type").GetString());
        Assert.Equal("sleep", sleep.GetProperty("name").GetString());
        Assert.Equal("clock", sleep.GetProperty("namespace").GetString());

        var output = events[^1].GetProperty("response").GetProperty("output");
        Assert.Equal(["custom_tool_call", "function_call"], output.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
    }

    [Fact]
    public void Completion_CallOfACustomTool_IsACustomToolCall()
    {
        var tools = Translate($$"""{"model":"m","input":"x","tools":{{CodexTools}}}""").Tools;
        var completion = """
            {"id":"c1","object":"chat.completion","created":1,"model":"u","choices":[{"index":0,"finish_reason":"tool_calls",
             "message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"exec","arguments":"{\"input\":\"exit()\"}"}}]}}],
             "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
            """u8;
        var response = JsonDocument.Parse(ResponsesCompletion.Translate(completion, ResponseEcho.None("m"), 1, tools: tools)!).RootElement;
        var item = response.GetProperty("output")[0];
        Assert.Equal("custom_tool_call", item.GetProperty("type").GetString());
        Assert.Equal("exit()", item.GetProperty("input").GetString());
        Assert.Equal("call_1", item.GetProperty("call_id").GetString());
    }

    [Fact]
    public void Encoder_CustomInput_StreamsAsItComes_SplitAnywhere()
    {
        var tools = Translate($$"""{"model":"m","input":"x","tools":{{CodexTools}}}""").Tools;
        const string js = "text(\"caf\u00e9 \ud83d\ude00\");\n\texit()";
        // The serializer escapes non-ASCII (\u00e9, a surrogate pair), quotes and control characters.
        var arguments = JsonSerializer.Serialize(new Dictionary<string, string> { ["input"] = js });
        for (var split = 0; split <= arguments.Length; split++)
        {
            for (var second = split; second <= arguments.Length; second += 5)
            {
                var events = Encode(tools,
                    new ToolCallStarted(0, 0, "call_1", "exec"),
                    new ToolArgumentsDelta(0, 0, arguments[..split]),
                    new ToolArgumentsDelta(0, 0, arguments[split..second]),
                    new ToolArgumentsDelta(0, 0, arguments[second..]),
                    new ToolCallEnded(0, 0),
                    new Finished(0, FinishReason.ToolCalls));
                var deltas = events.Where(e => e.GetProperty("type").GetString() == "response.custom_tool_call_input.delta").Select(e => e.GetProperty("delta").GetString()!).ToList();
                Assert.All(deltas, d => Assert.NotEmpty(d));
                Assert.Equal(js, string.Concat(deltas));
                Assert.Equal(js, events.Single(e => e.GetProperty("type").GetString() == "response.custom_tool_call_input.done").GetProperty("input").GetString());
            }
        }
    }

    [Fact]
    public void Encoder_CustomInput_NotInTheAskedShape_IsToldWholeAtTheEnd()
    {
        var tools = Translate($$"""{"model":"m","input":"x","tools":{{CodexTools}}}""").Tools;
        var events = Encode(tools, new ToolCallStarted(0, 0, "call_1", "exec"), new ToolArgumentsDelta(0, 0, "exit()"), new ToolCallEnded(0, 0), new Finished(0, FinishReason.ToolCalls));
        Assert.Equal("exit()", events.Single(e => e.GetProperty("type").GetString() == "response.custom_tool_call_input.delta").GetProperty("delta").GetString());
        Assert.Equal("exit()", events.Single(e => e.GetProperty("type").GetString() == "response.custom_tool_call_input.done").GetProperty("input").GetString());
    }

    [Fact]
    public void ToolOutput_OfAnotherShape_IsItsJsonAsText()
    {
        var (chat, _) = Chat("""{"model":"m","input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":{"ok":true}}]}""");
        Assert.Equal("""{"ok":true}""", chat.GetProperty("messages")[1].GetProperty("content").GetString());
    }
}
