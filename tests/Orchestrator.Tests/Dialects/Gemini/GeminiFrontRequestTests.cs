using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Actors.Fronts.Gemini;

namespace Orchestrator.Tests.Dialects.Gemini;

public sealed class GeminiFrontRequestTests
{
    private static (JsonNode Chat, ImmutableArray<string> Dropped) Translate(string gemini, bool stream = false)
    {
        using var document = JsonDocument.Parse(gemini);
        var translation = GeminiFrontRequest.Translate(document.RootElement.Clone(), "gemini-3.8-flash", stream);
        Assert.True(translation.Error is null, translation.Error?.Message);
        return (JsonNode.Parse(translation.ChatBody)!, translation.Dropped);
    }

    private static string Refuse(string gemini)
    {
        using var document = JsonDocument.Parse(gemini);
        var translation = GeminiFrontRequest.Translate(document.RootElement.Clone(), "m", stream: false);
        Assert.Null(translation.ChatBody);
        Assert.Equal(400, translation.Error!.Status);
        return translation.Error.Message;
    }

    private static string Compact(JsonNode? node) => node?.ToJsonString() ?? "null";

    [Fact]
    public void Translate_PlainRequest_ModelFromUrlAndUserMessage()
    {
        var (chat, dropped) = Translate("""{"model":"ignored","contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");
        Assert.Equal("""{"model":"gemini-3.8-flash","messages":[{"role":"user","content":"Hi"}]}""", Compact(chat));
        Assert.Empty(dropped);
    }

    [Fact]
    public void Translate_RoleMissing_ReadsAsUser()
    {
        var (chat, _) = Translate("""{"contents":[{"parts":[{"text":"Hi"}]}]}""");
        Assert.Equal("user", (string?)chat["messages"]![0]!["role"]);
    }

    [Fact]
    public void Translate_SystemInstruction_BecomesFirstSystemMessage()
    {
        var (chat, _) = Translate("""{"systemInstruction":{"role":"user","parts":[{"text":"Be brief."},{"text":"Be kind."}]},"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");
        Assert.Equal("""{"role":"system","content":"Be brief.\n\nBe kind."}""", Compact(chat["messages"]![0]));
    }

    [Fact]
    public void Translate_ProtoFieldNames_ReadLikeJsonNames()
    {
        var (chat, _) = Translate("""{"system_instruction":{"parts":[{"text":"S"}]},"contents":[{"parts":[{"text":"Hi"}]}],"generation_config":{"max_output_tokens":7}}""");
        Assert.Equal("S", (string?)chat["messages"]![0]!["content"]);
        Assert.Equal(7, (int)chat["max_tokens"]!);
    }

    [Fact]
    public void Translate_UnsignedThoughts_LeftOutAndTextKept()
    {
        var (chat, dropped) = Translate("""
            {"contents":[{"role":"user","parts":[{"text":"Q"}]},
              {"role":"model","parts":[{"text":"pondering","thought":true},{"text":"A"}]},
              {"role":"user","parts":[{"text":"Q2"}]}]}
            """);
        Assert.Equal("""{"role":"assistant","content":"A"}""", Compact(chat["messages"]![1]));
        Assert.Empty(dropped);
    }

    [Fact]
    public void Translate_SignedThoughts_GoBackAsReasoning()
    {
        var (chat, _) = Translate("""
            {"contents":[{"role":"user","parts":[{"text":"Q"}]},
              {"role":"model","parts":[{"text":"pondering","thought":true},{"functionCall":{"name":"f","args":{}},"thoughtSignature":"sig-a"}]},
              {"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}
            """);
        var assistant = chat["messages"]![1]!;
        Assert.Equal("pondering", (string?)assistant["reasoning_content"]);
        Assert.Equal("sig-a", (string?)assistant["reasoning_signature"]);
    }

    [Fact]
    public void Translate_FunctionCallAndResponse_ToolCallsAndToolMessagesWithStableIds()
    {
        const string body = """
            {"contents":[{"role":"user","parts":[{"text":"read both"}]},
              {"role":"model","parts":[{"functionCall":{"name":"read_file","args":{"file_path":"a"}},"thoughtSignature":"s"},{"functionCall":{"name":"read_file","args":{"file_path":"b"}}}]},
              {"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"output":"A"}}},{"functionResponse":{"name":"read_file","response":{"output":"B"}}}]}]}
            """;
        var (chat, _) = Translate(body);
        var messages = chat["messages"]!.AsArray();
        Assert.Equal("""{"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"read_file","arguments":"{\u0022file_path\u0022:\u0022a\u0022}"}},{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\u0022file_path\u0022:\u0022b\u0022}"}}]}""", Compact(messages[1]));
        Assert.Equal("""{"role":"tool","tool_call_id":"call_0","content":"{\u0022output\u0022:\u0022A\u0022}"}""", Compact(messages[2]));
        Assert.Equal("call_1", (string?)messages[3]!["tool_call_id"]);
        Assert.Equal(4, messages.Count);
        // The same conversation gives the same ids: the next request's history still matches.
        Assert.Equal(Compact(chat), Compact(Translate(body).Chat));
    }

    [Fact]
    public void Translate_FunctionIds_MatchedByIdBeforeName()
    {
        var (chat, _) = Translate("""
            {"contents":[{"role":"user","parts":[{"text":"go"}]},
              {"role":"model","parts":[{"functionCall":{"id":"x1","name":"f","args":{}}},{"functionCall":{"id":"x2","name":"f","args":{}}}]},
              {"role":"user","parts":[{"functionResponse":{"id":"x2","name":"f","response":{"r":2}}},{"functionResponse":{"id":"x1","name":"f","response":{"r":1}}}]}]}
            """);
        var messages = chat["messages"]!.AsArray();
        Assert.Equal("x1", (string?)messages[1]!["tool_calls"]![0]!["id"]);
        Assert.Equal("x2", (string?)messages[2]!["tool_call_id"]);
        Assert.Equal("x1", (string?)messages[3]!["tool_call_id"]);
    }

    [Fact]
    public void Translate_ResponseAnsweringNoCall_SaidAsUserText()
    {
        var (chat, _) = Translate("""{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}},{"text":"and?"}]}]}""");
        var message = chat["messages"]![0]!;
        Assert.Equal("user", (string?)message["role"]);
        Assert.Contains("f returned", Compact(message["content"]));
        Assert.DoesNotContain("tool", Compact(chat));
    }

    [Fact]
    public void Translate_ToolResultsThenText_ToolMessagesComeFirst()
    {
        var (chat, _) = Translate("""
            {"contents":[{"role":"user","parts":[{"text":"go"}]},
              {"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},
              {"role":"user","parts":[{"text":"here:"},{"functionResponse":{"name":"f","response":{"ok":true}}}]}]}
            """);
        var messages = chat["messages"]!.AsArray();
        Assert.Equal("tool", (string?)messages[2]!["role"]);
        Assert.Equal("""{"role":"user","content":"here:"}""", Compact(messages[3]));
    }

    [Fact]
    public void Translate_InlineImage_BecomesDataUrl()
    {
        var (chat, _) = Translate("""{"contents":[{"role":"user","parts":[{"text":"what?"},{"inlineData":{"mimeType":"image/png","data":"iVBOR"}}]}]}""");
        Assert.Equal("""[{"type":"text","text":"what?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}}]""", Compact(chat["messages"]![0]!["content"]));
    }

    [Fact]
    public void Translate_UnknownPartsAndFields_DroppedAndNamed()
    {
        var (chat, dropped) = Translate("""
            {"contents":[{"role":"user","parts":[{"text":"x"},{"inlineData":{"mimeType":"video/mp4","data":"AAAA"}},{"executableCode":{"code":"1"}}]}],
             "safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"cachedContent":"cachedContents/1",
             "tools":[{"functionDeclarations":[{"name":"f"}]},{"googleSearch":{}}],
             "generationConfig":{"topK":40,"responseModalities":["TEXT"]},"somethingNew":1}
            """);
        Assert.Equal(
            ["contents[user].parts:inlineData:video/mp4", "contents[user].parts:executableCode", "tools[1]:googleSearch",
             "generationConfig.topK", "generationConfig.responseModalities", "safetySettings", "cachedContent", "somethingNew"],
            dropped.ToArray());
        Assert.Equal("x", (string?)chat["messages"]![0]!["content"]);
        Assert.Single(chat["tools"]!.AsArray());
    }

    [Fact]
    public void Translate_DroppedNames_HeaderSafeAndBounded()
    {
        var fields = string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"x{i}\":1"));
        var (_, dropped) = Translate($$"""{"contents":[{"parts":[{"text":"x"}]}],"é\r\nSet-Cookie: a, b":1,"{{new string('k', 100)}}":2,{{fields}}}""");
        Assert.Equal("???Set-Cookie:?a??b", dropped[0]);
        Assert.Equal(new string('k', 64) + "...", dropped[1]);
        Assert.Equal(17, dropped.Length);
        Assert.Equal("6 more", dropped[^1]);
        Assert.All(dropped, name => Assert.True(name.All(c => c is >= ' ' and < '\x7f' and not ','), name));
    }

    [Fact]
    public void Translate_FunctionDeclarations_GeminiSchemaBecomesJsonSchema()
    {
        var (chat, _) = Translate("""
            {"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[
              {"name":"a","description":"d","parameters":{"type":"OBJECT","properties":{"p":{"type":"STRING","nullable":true},"q":{"type":"ARRAY","items":{"type":"INTEGER"}}},"required":["p"],"propertyOrdering":["p","q"]}},
              {"name":"b","parametersJsonSchema":{"type":"object","properties":{"x":{"type":"number"}},"additionalProperties":false}},
              {"name":"c"}]}]}
            """);
        var tools = chat["tools"]!.AsArray();
        Assert.Equal("""{"type":"function","function":{"name":"a","description":"d","parameters":{"type":"object","properties":{"p":{"type":["string","null"]},"q":{"type":"array","items":{"type":"integer"}}},"required":["p"]}}}""", Compact(tools[0]));
        Assert.Equal("""{"type":"object","properties":{"x":{"type":"number"}},"additionalProperties":false}""", Compact(tools[1]!["function"]!["parameters"]));
        Assert.Equal("""{"type":"object","properties":{}}""", Compact(tools[2]!["function"]!["parameters"]));
    }

    [Theory]
    [InlineData("""{"mode":"AUTO"}""", "\"auto\"", 2)]
    [InlineData("""{"mode":"NONE"}""", "\"none\"", 2)]
    [InlineData("""{"mode":"ANY"}""", "\"required\"", 2)]
    [InlineData("""{"mode":"ANY","allowedFunctionNames":["b"]}""", """{"type":"function","function":{"name":"b"}}""", 1)]
    [InlineData("""{"mode":"VALIDATED"}""", "\"auto\"", 2)]
    public void Translate_FunctionCallingConfig_BecomesToolChoice(string config, string toolChoice, int tools)
    {
        var (chat, _) = Translate($$$"""{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"a"},{"name":"b"}]}],"toolConfig":{"functionCallingConfig":{{{config}}}}}""");
        Assert.Equal(toolChoice, Compact(chat["tool_choice"]));
        Assert.Equal(tools, chat["tools"]!.AsArray().Count);
    }

    [Fact]
    public void Translate_ToolConfigWithoutTools_NoToolChoice()
    {
        var (chat, _) = Translate("""{"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}""");
        Assert.Null(chat["tool_choice"]);
    }

    [Fact]
    public void Translate_GenerationConfig_SamplingFields()
    {
        var (chat, dropped) = Translate("""
            {"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":0.5,"topP":0.9,"maxOutputTokens":100,
              "stopSequences":["END"],"candidateCount":2,"presencePenalty":0.1,"frequencyPenalty":0.2,"seed":7}}
            """);
        Assert.Equal("""{"model":"gemini-3.8-flash","messages":[{"role":"user","content":"x"}],"temperature":0.5,"top_p":0.9,"max_tokens":100,"stop":["END"],"n":2,"presence_penalty":0.1,"frequency_penalty":0.2,"seed":7}""", Compact(chat));
        Assert.Empty(dropped);
    }

    [Fact]
    public void Translate_JsonWithSchema_ResponseFormatJsonSchema()
    {
        // Gemini CLI's router: a JSON schema with Gemini's capitalised types.
        var (chat, _) = Translate("""
            {"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",
              "responseJsonSchema":{"type":"OBJECT","properties":{"score":{"type":"INTEGER"}},"required":["score"]}}}
            """);
        Assert.Equal("""{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object","properties":{"score":{"type":"integer"}},"required":["score"]}}}""", Compact(chat["response_format"]));
    }

    [Fact]
    public void Translate_JsonWithoutSchema_ResponseFormatJsonObject()
    {
        var (chat, _) = Translate("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json"}}""");
        Assert.Equal("""{"type":"json_object"}""", Compact(chat["response_format"]));
    }

    [Theory]
    [InlineData("""{"thinkingLevel":"HIGH","includeThoughts":true}""", "high")]
    [InlineData("""{"thinkingLevel":"low"}""", "low")]
    [InlineData("""{"thinkingBudget":0}""", "none")]
    [InlineData("""{"thinkingBudget":1024}""", "low")]
    [InlineData("""{"thinkingBudget":8000}""", "medium")]
    [InlineData("""{"thinkingBudget":24576}""", "high")]
    [InlineData("""{"thinkingBudget":-1}""", null)]
    public void Translate_ThinkingConfig_ReasoningEffort(string thinking, string? effort)
    {
        var (chat, _) = Translate($$$"""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{{{thinking}}}}}""");
        Assert.Equal(effort, (string?)chat["reasoning_effort"]);
    }

    [Fact]
    public void Translate_Stream_AsksForUsage()
    {
        var (chat, _) = Translate("""{"contents":[{"parts":[{"text":"x"}]}]}""", stream: true);
        Assert.True((bool)chat["stream"]!);
        Assert.True((bool)chat["stream_options"]!["include_usage"]!);
    }

    [Theory]
    [InlineData("""[]""", "JSON object")]
    [InlineData("""{}""", "contents is not specified")]
    [InlineData("""{"contents":[]}""", "contents is not specified")]
    [InlineData("""{"contents":"hi"}""", "'contents'")]
    [InlineData("""{"contents":[{"parts":["hi"]}]}""", "'contents[0].parts[0]'")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}}""", "'generationConfig.temperature'")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"tools":{"functionDeclarations":[]}}""", "'tools'")]
    public void Translate_NotARequest_RefusedNamingTheField(string body, string named)
    {
        Assert.Contains(named, Refuse(body));
    }
}
