using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Actors.Dialects.Anthropic;

namespace Orchestrator.Tests.Dialects.Anthropic;

public sealed class MessagesRequestTests
{
    private static JsonNode Translate(string anthropic)
    {
        using var document = JsonDocument.Parse(anthropic);
        var translation = MessagesRequest.Translate(document.RootElement.Clone());
        Assert.True(translation.Error is null, translation.Error?.Message);
        return JsonNode.Parse(translation.ChatBody)!;
    }

    private static string Refuse(string anthropic)
    {
        using var document = JsonDocument.Parse(anthropic);
        var translation = MessagesRequest.Translate(document.RootElement.Clone());
        Assert.Null(translation.ChatBody);
        Assert.Equal(400, translation.Error!.Status);
        return translation.Error.Message;
    }

    private static string Compact(JsonNode? node) => node?.ToJsonString() ?? "null";

    [Fact]
    public void Translate_PlainRequest_KeepsModelMaxTokensAndMessages()
    {
        var chat = Translate("""{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""");
        Assert.Equal("""{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""", Compact(chat));
    }

    [Fact]
    public void Translate_SystemString_BecomesFirstSystemMessage()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"system":"Be brief","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal("""{"role":"system","content":"Be brief"}""", Compact(chat["messages"]![0]));
    }

    [Fact]
    public void Translate_SystemTextBlocks_JoinIntoOneSystemMessage()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"system":[{"type":"text","text":"A"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal("""{"role":"system","content":"A\n\nB"}""", Compact(chat["messages"]![0]));
        Assert.Equal(2, chat["messages"]!.AsArray().Count);
    }

    [Fact]
    public void Translate_SystemMessageBetweenTurns_StaysInPlace()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"Hi"},{"role":"system","content":[{"type":"text","text":"Now in French"}]},{"role":"user","content":"Again"}]}""");
        Assert.Equal("""{"role":"system","content":"Now in French"}""", Compact(chat["messages"]![1]));
    }

    [Fact]
    public void Translate_UserBlocks_BecomeContentParts_Base64ImageAsDataUrl()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":1,"messages":[{"role":"user","content":[
              {"type":"text","text":"What is this?"},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0K"}},
              {"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}}]}]}
            """);
        Assert.Equal("""[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}},{"type":"image_url","image_url":{"url":"https://example.com/a.jpg"}}]""",
            Compact(chat["messages"]![0]!["content"]));
    }

    [Fact]
    public void Translate_OneUserTextBlock_BecomesStringContent()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"}}]}]}""");
        Assert.Equal("""{"role":"user","content":"Hi"}""", Compact(chat["messages"]![0]));
    }

    [Fact]
    public void Translate_ToolResults_BecomeToolMessagesBeforeTheUsersText()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":1,"messages":[
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"w","input":{"city":"Oslo"}},{"type":"tool_use","id":"toolu_2","name":"t","input":{}}]},
              {"role":"user","content":[
                {"type":"text","text":"Here you go"},
                {"type":"tool_result","tool_use_id":"toolu_1","content":"12C"},
                {"type":"tool_result","tool_use_id":"toolu_2","is_error":true,"content":[{"type":"text","text":"no"},{"type":"text","text":"clock"}]}]}]}
            """);
        var messages = chat["messages"]!.AsArray();
        Assert.Equal(5, messages.Count);
        Assert.Equal("""{"role":"tool","tool_call_id":"toolu_1","content":"12C"}""", Compact(messages[2]));
        Assert.Equal("""{"role":"tool","tool_call_id":"toolu_2","content":"no\nclock"}""", Compact(messages[3]));
        Assert.Equal("""{"role":"user","content":"Here you go"}""", Compact(messages[4]));
    }

    [Fact]
    public void Translate_ToolResultOnly_WritesNoEmptyUserMessage()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1"}]}]}""");
        Assert.Equal("""[{"role":"tool","tool_call_id":"toolu_1","content":""}]""", Compact(chat["messages"]));
    }

    [Fact]
    public void Translate_AssistantBlocks_TextToolUseAndThinking()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[
              {"type":"thinking","thinking":"Hmm","signature":"sig=="},
              {"type":"redacted_thinking","data":"opaque"},
              {"type":"text","text":"Let me check."},
              {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo","days":2}}]}]}
            """);
        var assistant = chat["messages"]![1]!;
        Assert.Equal("Let me check.", (string?)assistant["content"]);
        Assert.Equal("Hmm", (string?)assistant["reasoning_content"]);
        Assert.Equal("sig==", (string?)assistant["reasoning_signature"]);
        var call = assistant["tool_calls"]![0]!;
        Assert.Equal("toolu_1", (string?)call["id"]);
        Assert.Equal("function", (string?)call["type"]);
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        Assert.Equal("""{"city":"Oslo","days":2}""", JsonNode.Parse((string)call["function"]!["arguments"]!)!.ToJsonString());
    }

    [Fact]
    public void Translate_AssistantOnlyToolUse_HasNullContent()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]}]}""");
        var assistant = chat["messages"]![1]!.AsObject();
        Assert.True(assistant.ContainsKey("content"));
        Assert.Null(assistant["content"]);
        Assert.Equal("{}", (string?)assistant["tool_calls"]![0]!["function"]!["arguments"]);
    }

    [Fact]
    public void Translate_Tools_BecomeFunctionTools()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}},"cache_control":{"type":"ephemeral"}}]}
            """);
        Assert.Equal("""[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""",
            Compact(chat["tools"]));
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"any"}""", "\"required\"")]
    [InlineData("""{"type":"none"}""", "\"none\"")]
    [InlineData("""{"type":"tool","name":"get_weather"}""", """{"type":"function","function":{"name":"get_weather"}}""")]
    public void Translate_ToolChoice_MapsToOpenAi(string anthropic, string openAi)
    {
        var chat = Translate($$$"""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":{{{anthropic}}}}""");
        Assert.Equal(openAi, Compact(chat["tool_choice"]));
        Assert.Null(chat["parallel_tool_calls"]);
    }

    [Fact]
    public void Translate_DisableParallelToolUse_BecomesParallelToolCallsFalse()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}""");
        Assert.False((bool)chat["parallel_tool_calls"]!);
    }

    [Fact]
    public void Translate_ToolChoiceWithoutTools_IsLeftOut()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"any"}}""");
        Assert.Null(chat["tool_choice"]);
    }

    [Fact]
    public void Translate_SamplingStopStreamAndMetadata()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":50,"messages":[{"role":"user","content":"x"}],"stop_sequences":["END","STOP"],
             "temperature":0.2,"top_p":0.9,"top_k":40,"stream":true,"metadata":{"user_id":"u-1"},"thinking":{"type":"enabled","budget_tokens":2048}}
            """).AsObject();
        Assert.Equal("""["END","STOP"]""", Compact(chat["stop"]));
        Assert.Equal(0.2, (double)chat["temperature"]!);
        Assert.Equal(0.9, (double)chat["top_p"]!);
        Assert.False(chat.ContainsKey("top_k"));   // OpenAI refuses it; the native body keeps it
        Assert.False(chat.ContainsKey("thinking"));
        Assert.True((bool)chat["stream"]!);
        Assert.Equal("""{"include_usage":true}""", Compact(chat["stream_options"]));
        Assert.Equal("u-1", (string?)chat["user"]);
        Assert.Equal(50, (int)chat["max_tokens"]!);
    }

    [Fact]
    public void Translate_StreamFalse_WritesNoStream()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"stream":false}""").AsObject();
        Assert.False(chat.ContainsKey("stream"));
        Assert.False(chat.ContainsKey("stream_options"));
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}]}""", "max_tokens: Field required")]
    [InlineData("""{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}""", "model: Field required")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", "max_tokens: Input should be a positive integer")]
    [InlineData("""{"model":"m","max_tokens":1}""", "messages: Field required")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[]}""", "messages: List should have at least 1 item")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"tool","content":"x"}]}""", "messages.0.role: Input should be 'user', 'assistant' or 'system', but got 'tool'")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}]}""", "messages.0.content.0.type: 'tool_use' blocks belong in an assistant message")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}""", "messages.0.content.0.tool_use_id: Field required")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t"}]}""", "tools.0.input_schema: Field required")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"sometimes"}}""", "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"stream":"yes"}""", "stream: Input should be a valid boolean")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"system":[{"type":"image"}]}""", "system.0.type: Input should be 'text'")]
    [InlineData("""[1,2]""", "The request body must be a JSON object.")]
    public void Translate_InvalidRequest_NamesTheField(string anthropic, string expected)
    {
        Assert.StartsWith(expected, Refuse(anthropic));
    }

    [Fact]
    public void Translate_WhatChatCannotCarry_IsDroppedAndNamed_NeverRefused()
    {
        // Claude Code's fields, a server tool, a block type nobody had heard of, a thinking type from next month.
        using var document = JsonDocument.Parse("""
            {"model":"m","max_tokens":8,"thinking":{"type":"adaptive","display":"omitted"},"context_management":{"edits":[]},
             "output_config":{"effort":"high"},"metadata":{"user_id":"u1"},
             "messages":[{"role":"user","content":[{"type":"video","source":{}},{"type":"text","text":"hi"}]},
                         {"role":"assistant","content":[{"type":"server_tool_use","id":"s1","name":"web_search","input":{}},{"type":"text","text":"ok"}]},
                         {"role":"user","content":"go on"}],
             "tools":[{"type":"web_search_20250305","name":"web_search"},{"name":"Read","input_schema":{"type":"object"},"defer_loading":true}]}
            """);
        var translation = MessagesRequest.Translate(document.RootElement.Clone());
        Assert.Null(translation.Error);
        var chat = JsonNode.Parse(translation.ChatBody)!;
        Assert.Equal(["Read"], chat["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal("u1", chat["user"]!.GetValue<string>());
        Assert.Equal(["content:video", "content:server_tool_use", "tools[0]:web_search_20250305", "tools[1].defer_loading", "thinking", "context_management", "output_config"],
            translation.Dropped.ToArray());
    }

    [Fact]
    public void Translate_HugeBadValue_IsQuotedShort()
    {
        var role = new string('r', 10_000);
        var message = Refuse($$"""{"model":"m","max_tokens":1,"messages":[{"role":"{{role}}","content":"x"}]}""");
        Assert.True(message.Length < 200, message);
    }
}
