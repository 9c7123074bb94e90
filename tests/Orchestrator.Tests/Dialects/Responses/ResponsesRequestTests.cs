using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Http;

namespace Orchestrator.Tests.Dialects.Responses;

public sealed class ResponsesRequestTests
{
    private static ResponsesRequest.Result Translate(string json) =>
        ResponsesRequest.Translate(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));

    private static JsonElement Chat(string json)
    {
        var result = Translate(json);
        Assert.Null(result.Error);
        return JsonDocument.Parse(result.ChatBody).RootElement;
    }

    private static Messages.Chat.ApiError Refused(string json)
    {
        var result = Translate(json);
        Assert.NotNull(result.Error);
        Assert.Equal(400, result.Error.Status);
        Assert.Equal("invalid_request_error", result.Error.Type);
        return result.Error;
    }

    [Fact]
    public void StringInput_WithInstructions_IsASystemThenAUserMessage()
    {
        var chat = Chat("""{"model":"m","input":"Hello","instructions":"Be brief.","max_output_tokens":50,"temperature":0.2,"top_p":0.9,"user":"u-1","metadata":{"k":"v"}}""");
        Assert.Equal("m", chat.GetProperty("model").GetString());
        var messages = chat.GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", messages[0].GetProperty("content").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
        Assert.Equal("Hello", messages[1].GetProperty("content").GetString());
        Assert.Equal(50, chat.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.2, chat.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, chat.GetProperty("top_p").GetDouble());
        Assert.Equal("u-1", chat.GetProperty("user").GetString());
        Assert.False(chat.TryGetProperty("metadata", out _));   // echoed in the response object, never sent upstream
        Assert.False(chat.TryGetProperty("stream", out _));
    }

    [Fact]
    public void Stream_AlwaysAsksForUsage_AndTheChatReaderAcceptsTheTranslation()
    {
        var result = Translate("""{"model":"m","input":"Hi","stream":true,"max_output_tokens":7}""");
        Assert.True(result.Stream);
        var chat = JsonDocument.Parse(result.ChatBody!).RootElement;
        Assert.True(chat.GetProperty("stream").GetBoolean());
        Assert.True(chat.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());

        var parsed = ChatRequestReader.Parse(new ReadOnlySequence<byte>(result.ChatBody!));
        Assert.Null(parsed.Error);
        Assert.True(parsed.Request!.Stream);
        Assert.True(parsed.Request.IncludeUsage);
        Assert.Equal(7, parsed.Request.MaxTokens);
        Assert.Equal("m", parsed.Request.Model);
    }

    [Fact]
    public void Items_FunctionCallsAndOutputs_RoundTripWithTheirCallIdsUnchanged()
    {
        var chat = Chat("""
            {"model":"m","input":[
              {"type":"message","role":"developer","content":[{"type":"input_text","text":"Use tools."}]},
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"Two cities."}],"encrypted_content":"orc1.sig-1"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}],"id":"msg_1","status":"completed"},
              {"type":"function_call","id":"fc_1","call_id":"call_A","name":"weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
              {"type":"function_call","id":"fc_2","call_id":"toolu_B","name":"weather","arguments":""},
              {"type":"function_call_output","call_id":"call_A","output":"18C"},
              {"type":"function_call_output","call_id":"toolu_B","output":[{"type":"input_text","text":"21C"}]},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"Thanks. "},{"type":"input_image","image_url":"https://example.com/a.png","detail":"low"}]}
            ]}
            """);
        var messages = chat.GetProperty("messages");
        Assert.Equal(6, messages.GetArrayLength());
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Use tools.", messages[0].GetProperty("content").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());

        // The assistant's text and both calls are one turn, with the reasoning that preceded it.
        var assistant = messages[2];
        Assert.Equal("assistant", assistant.GetProperty("role").GetString());
        Assert.Equal("Checking.", assistant.GetProperty("content").GetString());
        Assert.Equal("Two cities.", assistant.GetProperty("reasoning_content").GetString());
        Assert.Equal("sig-1", assistant.GetProperty("reasoning_signature").GetString());
        var calls = assistant.GetProperty("tool_calls");
        Assert.Equal(2, calls.GetArrayLength());
        Assert.Equal("call_A", calls[0].GetProperty("id").GetString());
        Assert.Equal("function", calls[0].GetProperty("type").GetString());
        Assert.Equal("weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\":\"Paris\"}", calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("toolu_B", calls[1].GetProperty("id").GetString());
        Assert.Equal("{}", calls[1].GetProperty("function").GetProperty("arguments").GetString());

        Assert.Equal("tool", messages[3].GetProperty("role").GetString());
        Assert.Equal("call_A", messages[3].GetProperty("tool_call_id").GetString());
        Assert.Equal("18C", messages[3].GetProperty("content").GetString());
        Assert.Equal("toolu_B", messages[4].GetProperty("tool_call_id").GetString());
        Assert.Equal("21C", messages[4].GetProperty("content").GetString());

        var parts = messages[5].GetProperty("content");
        Assert.Equal("text", parts[0].GetProperty("type").GetString());
        Assert.Equal("image_url", parts[1].GetProperty("type").GetString());
        Assert.Equal("https://example.com/a.png", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("low", parts[1].GetProperty("image_url").GetProperty("detail").GetString());
    }

    [Fact]
    public void FunctionCallWithoutAssistantText_IsAnAssistantMessageWithNullContent()
    {
        var messages = Chat("""{"model":"m","input":[{"role":"user","content":"hi"},{"type":"function_call","call_id":"c1","name":"now","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"noon"}]}""")
            .GetProperty("messages");
        Assert.Equal(JsonValueKind.Null, messages[1].GetProperty("content").ValueKind);
        Assert.Equal("c1", messages[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
    }

    [Fact]
    public void FunctionTools_ToolChoiceAndTextFormat_AreInChatForm()
    {
        var chat = Chat("""
            {"model":"m","input":"x","parallel_tool_calls":false,
             "tools":[{"type":"function","name":"weather","description":"Look it up","parameters":{"type":"object","properties":{}},"strict":true}],
             "tool_choice":{"type":"function","name":"weather"},
             "text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object"},"strict":true}},
             "reasoning":{"effort":"low","summary":"auto"}}
            """);
        var tool = chat.GetProperty("tools")[0];
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("weather", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Look it up", tool.GetProperty("function").GetProperty("description").GetString());
        Assert.True(tool.GetProperty("function").GetProperty("strict").GetBoolean());
        Assert.Equal("weather", chat.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.False(chat.GetProperty("parallel_tool_calls").GetBoolean());
        var format = chat.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("out", format.GetProperty("json_schema").GetProperty("name").GetString());
        Assert.Equal("low", chat.GetProperty("reasoning_effort").GetString());
    }

    [Fact]
    public void ToolChoiceAutoWithoutTools_IsDropped()
    {
        var chat = Chat("""{"model":"m","input":"x","tool_choice":"auto","parallel_tool_calls":true,"store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"k"}""");
        Assert.False(chat.TryGetProperty("tool_choice", out _));
        Assert.False(chat.TryGetProperty("parallel_tool_calls", out _));
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "input", "Missing required parameter: 'input'")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]}""", "input[0].content[0].file_id", "file_id")]
    [InlineData("""{"model":"m","input":[{"role":"tool","content":"x"}]}""", "input[0].role", "Expected 'user', 'assistant', 'system' or 'developer'")]
    [InlineData("""{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[0].call_id", "Missing required parameter")]
    [InlineData("""{"model":"m","input":"x","tool_choice":"required"}""", "tool_choice", "no function tools")]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":0}""", "max_output_tokens", "positive integer")]
    public void Request_Unsupported_IsRefusedNamingTheField(string json, string param, string message)
    {
        var error = Refused(json);
        Assert.Equal(param, error.Param);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("""{"model":"m","input":"x","previous_response_id":"resp_1"}""", "previous_response_id", "stateless")]
    [InlineData("""{"model":"m","input":"x","conversation":"conv_1"}""", "conversation", "stateless")]
    [InlineData("""{"model":"m","input":"x","background":true}""", "background", "stateless")]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"msg_1"},{"role":"user","content":"x"}]}""", "input[0].type", "keeps no items")]
    public void Request_NeedingStoredState_IsForANativeRouteOnly(string json, string param, string message)
    {
        var result = Translate(json);
        Assert.Null(result.Error);   // a native Responses upstream takes it as it came
        Assert.NotNull(result.OnlyNative);
        Assert.Equal(400, result.OnlyNative.Status);
        Assert.Equal(param, result.OnlyNative.Param);
        Assert.Contains(message, result.OnlyNative.Message);
    }

    [Theory]
    [InlineData("""{"model":"m","input":"x","store":true}""", "store")]
    [InlineData("""{"model":"m","input":"x","frobnicate":1}""", "frobnicate")]
    [InlineData("""{"model":"m","input":"x","client_metadata":{"turn_id":"t1"}}""", "client_metadata")]
    [InlineData("""{"model":"m","input":"x","include":["reasoning.encrypted_content"]}""", "include")]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"web_search"}]}""", "tools[1]:web_search")]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"function","name":"f","bogus":1}]}""", "tools[0].bogus")]
    [InlineData("""{"model":"m","input":[{"type":"web_search_call","id":"ws_1"},{"role":"user","content":"x"}]}""", "input[0]:web_search_call")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_audio","data":"x"},{"type":"input_text","text":"x"}]}]}""", "input[0].content[0]:input_audio")]
    [InlineData("""{"model":"m","input":"x","text":{"format":{"type":"yaml"}}}""", "text.format:yaml")]
    [InlineData("""{"model":"m","input":"x","text":{"verbosity":"low","color":"red"}}""", "text.color")]
    [InlineData("""{"model":"m","input":"x","reasoning":{"effort":"low","summary":"auto","context":"all_turns"}}""", "reasoning.summary")]
    [InlineData("""{"model":"m","input":"x","top_logprobs":3}""", "top_logprobs")]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"web_search"}],"tool_choice":"required"}""", "tool_choice")]
    public void Request_WhatChatCannotCarry_IsDroppedAndNamed(string json, string named)
    {
        var result = Translate(json);
        Assert.Null(result.Error);
        Assert.Contains(named, result.Dropped);
        Assert.Null(ChatRequestReader.Parse(new ReadOnlySequence<byte>(result.ChatBody!)).Error);   // the engine reads what is left
    }

    [Fact]
    public void UnknownField_LongName_IsNamedShort()
    {
        var name = new string('z', 300);
        var result = Translate($$"""{"model":"m","input":"x","{{name}}":1}""");
        Assert.Null(result.Error);
        Assert.True(result.Dropped[0].Length < 100);
        Assert.EndsWith("...", result.Dropped[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[1]")]
    public void Body_NotAJsonObject_IsRefused(string body)
    {
        var error = Refused(body);
        Assert.Equal("invalid_json", error.Code);
    }
}
