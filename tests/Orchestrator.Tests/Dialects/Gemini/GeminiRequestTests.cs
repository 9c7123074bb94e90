using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Dialects.Gemini;
using Orchestrator.Http;
using Orchestrator.Messages.Chat;
using Orchestrator.Tests.Fakes;

namespace Orchestrator.Tests.Dialects.Gemini;

public sealed class GeminiRequestTests
{
    private static ChatRequest Chat(string json) =>
        ChatRequestReader.Parse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json))).Request ?? throw new InvalidOperationException("not a valid chat body");

    /// <summary>The translation, checked first the way the real API would check it.</summary>
    private static JsonElement Translate(string json)
    {
        var body = JsonDocument.Parse(GeminiRequest.Write(Chat(json))).RootElement;
        Assert.Null(FakeGemini.Validate(body));
        return body;
    }

    [Fact]
    public void Request_Conversation_SystemAsInstructionRolesMappedSameRoleMerged()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"developer","content":[{"type":"text","text":"Answer in English."}]},
              {"role":"user","content":"Hi"},
              {"role":"user","content":[{"type":"text","text":"there"}]},
              {"role":"assistant","content":"Hello!"},
              {"role":"user","content":"Bye"}
            ]}
            """);

        Assert.False(body.TryGetProperty("model", out _));
        var system = body.GetProperty("systemInstruction").GetProperty("parts");
        Assert.Equal(["Be brief.", "Answer in English."], system.EnumerateArray().Select(p => p.GetProperty("text").GetString()));
        var contents = body.GetProperty("contents").EnumerateArray().ToList();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c.GetProperty("role").GetString()));
        Assert.Equal(["Hi", "there"], contents[0].GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
        Assert.Equal("Hello!", contents[1].GetProperty("parts")[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Request_ToolRoundTrip_CallsAsFunctionCallsResultsAsNamedFunctionResponses()
    {
        var body = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"Weather and time in Oslo?"},
              {"role":"assistant","content":null,"reasoning_signature":"sig-1","tool_calls":[
                {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},
                {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_a","content":"{\"temp\":3}"},
              {"role":"tool","tool_call_id":"call_b","content":[{"type":"text","text":"14:05"}]}
            ]}
            """);

        var contents = body.GetProperty("contents").EnumerateArray().ToList();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c.GetProperty("role").GetString()));
        var calls = contents[1].GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal("get_weather", calls[0].GetProperty("functionCall").GetProperty("name").GetString());
        Assert.Equal("Oslo", calls[0].GetProperty("functionCall").GetProperty("args").GetProperty("city").GetString());
        Assert.Equal("sig-1", calls[0].GetProperty("thoughtSignature").GetString());   // back on the first call, where Gemini put it
        Assert.Equal(JsonValueKind.Object, calls[1].GetProperty("functionCall").GetProperty("args").ValueKind);   // "" is no arguments: {}
        Assert.False(calls[1].TryGetProperty("thoughtSignature", out _));

        var results = contents[2].GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("functionResponse")).ToList();
        Assert.Equal(["get_weather", "get_time"], results.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(3, results[0].GetProperty("response").GetProperty("temp").GetInt32());                // a JSON object goes as it is
        Assert.Equal("14:05", results[1].GetProperty("response").GetProperty("content").GetString());      // text is wrapped
    }

    [Fact]
    public void Request_Images_DataUrlInlineOtherUrlAsFileData()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"text","text":"Compare"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg?size=2","detail":"high"}},
              {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}
            ]}]}
            """);

        var parts = body.GetProperty("contents")[0].GetProperty("parts");
        Assert.Equal("image/png", parts[1].GetProperty("inlineData").GetProperty("mimeType").GetString());
        Assert.Equal("iVBORw0KGgo=", parts[1].GetProperty("inlineData").GetProperty("data").GetString());
        Assert.Equal("https://example.com/cat.jpg?size=2", parts[2].GetProperty("fileData").GetProperty("fileUri").GetString());
        Assert.Equal("image/jpeg", parts[2].GetProperty("fileData").GetProperty("mimeType").GetString());
        Assert.Equal("audio/wav", parts[3].GetProperty("inlineData").GetProperty("mimeType").GetString());
    }

    [Fact]
    public void Request_Sampling_InGenerationConfig()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":300,"temperature":0.2,"top_p":0.9,
             "stop":["END"],"n":2,"seed":7,"presence_penalty":0.5,"reasoning_effort":"low","response_format":{"type":"json_object"},
             "stream_options":{"include_usage":true},"user":"u-1","parallel_tool_calls":true,"logit_bias":{"1":2}}
            """);

        var config = body.GetProperty("generationConfig");
        Assert.Equal(300, config.GetProperty("maxOutputTokens").GetInt32());
        Assert.Equal(0.2, config.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, config.GetProperty("topP").GetDouble());
        Assert.Equal(["END"], config.GetProperty("stopSequences").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(2, config.GetProperty("candidateCount").GetInt32());
        Assert.Equal(7, config.GetProperty("seed").GetInt32());
        Assert.Equal(0.5, config.GetProperty("presencePenalty").GetDouble());
        Assert.Equal("application/json", config.GetProperty("responseMimeType").GetString());
        Assert.Equal(1024, config.GetProperty("thinkingConfig").GetProperty("thinkingBudget").GetInt32());
        Assert.True(config.GetProperty("thinkingConfig").GetProperty("includeThoughts").GetBoolean());
    }

    [Fact]
    public void Request_MaxTokensAndStopString_Mapped()
    {
        var config = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":50,"stop":"\n\n"}""").GetProperty("generationConfig");

        Assert.Equal(50, config.GetProperty("maxOutputTokens").GetInt32());
        Assert.Equal(["\n\n"], config.GetProperty("stopSequences").EnumerateArray().Select(s => s.GetString()));
        Assert.False(config.TryGetProperty("candidateCount", out _));
    }

    [Fact]
    public void Request_Tools_DeclaredInGeminisSchemaSubset()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"tool_choice":"required","tools":[
              {"type":"function","function":{"name":"get_weather","description":"Weather now","strict":true,"parameters":{
                "$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
                "properties":{"city":{"type":"string","description":"City"},"unit":{"type":["string","null"],"enum":["c","f"]},
                  "days":{"type":"array","items":{"type":"object","properties":{"d":{"type":"integer"}},"additionalProperties":false}},
                  "mode":{"const":"fast"}},
                "required":["city"]}}},
              {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{},"additionalProperties":false}}}
            ]}
            """);

        var declarations = body.GetProperty("tools")[0].GetProperty("functionDeclarations");
        var weather = declarations[0];
        Assert.Equal("Weather now", weather.GetProperty("description").GetString());
        Assert.False(weather.TryGetProperty("strict", out _));
        var parameters = weather.GetProperty("parameters");
        Assert.False(parameters.TryGetProperty("$schema", out _));
        Assert.False(parameters.TryGetProperty("additionalProperties", out _));
        Assert.Equal("string", parameters.GetProperty("properties").GetProperty("unit").GetProperty("type").GetString());
        Assert.True(parameters.GetProperty("properties").GetProperty("unit").GetProperty("nullable").GetBoolean());
        Assert.Equal("fast", parameters.GetProperty("properties").GetProperty("mode").GetProperty("enum")[0].GetString());
        Assert.False(parameters.GetProperty("properties").GetProperty("days").GetProperty("items").TryGetProperty("additionalProperties", out _));
        Assert.False(declarations[1].TryGetProperty("parameters", out _));   // an object with no properties: no parameters at all
        Assert.Equal("ANY", body.GetProperty("toolConfig").GetProperty("functionCallingConfig").GetProperty("mode").GetString());
    }

    [Theory]
    [InlineData("\"none\"", "NONE", null)]
    [InlineData("\"auto\"", "AUTO", null)]
    [InlineData("\"required\"", "ANY", null)]
    [InlineData("{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}", "ANY", "get_time")]
    public void Request_ToolChoice_AsFunctionCallingConfig(string choice, string mode, string? allowed)
    {
        const string tools = """[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]""";
        var body = Translate("""{"model":"m","messages":[{"role":"user","content":"Hi"}],"tool_choice":""" + choice + ""","tools":""" + tools + "}");

        var config = body.GetProperty("toolConfig").GetProperty("functionCallingConfig");
        Assert.Equal(mode, config.GetProperty("mode").GetString());
        if (allowed is null) Assert.False(config.TryGetProperty("allowedFunctionNames", out _));
        else Assert.Equal(allowed, config.GetProperty("allowedFunctionNames")[0].GetString());
    }

    [Fact]
    public void Request_TextSignature_OnTheLastTextPart()
    {
        var body = Translate("""
            {"model":"m","messages":[{"role":"user","content":"6*7?"},
              {"role":"assistant","content":"42","reasoning_content":"six sevens","reasoning_signature":"sig-t"},
              {"role":"user","content":"Sure?"}]}
            """);

        var model = body.GetProperty("contents")[1].GetProperty("parts");
        Assert.Equal(1, model.GetArrayLength());   // the thought text is not sent back, its signature is
        Assert.Equal("42", model[0].GetProperty("text").GetString());
        Assert.Equal("sig-t", model[0].GetProperty("thoughtSignature").GetString());
    }

    [Fact]
    public void Request_NativeGeminiBody_SentWithoutModelAndStream()
    {
        var native = JsonDocument.Parse("""{"model":"x","stream":true,"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"safetySettings":[]}""").RootElement;
        var request = Chat("""{"model":"m","messages":[{"role":"user","content":"ignored"}]}""") with { Native = new NativeRequest(Dialect.Gemini, native) };

        var body = JsonDocument.Parse(GeminiRequest.Write(request)).RootElement;

        Assert.Equal(["contents", "safetySettings"], body.EnumerateObject().Select(p => p.Name));
        Assert.Null(FakeGemini.Validate(body));
    }

    [Theory]
    [InlineData("""[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""[{"role":"tool","tool_call_id":"nope","content":"x"}]""", "messages[0].tool_call_id")]
    [InlineData("""[{"role":"critic","content":"x"}]""", "messages[0].role")]
    [InlineData("""[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]""", "messages[0].content[0].file")]
    public void Request_Untranslatable_RefusedNamingTheField(string messages, string param)
    {
        var ex = Assert.Throws<GeminiRequestException>(() => GeminiRequest.Write(Chat($$"""{"model":"m","messages":{{messages}}}""")));

        Assert.Equal(param, ex.Param);
    }

    /// <summary>The fake's checks are what make the translation tests worth something: it refuses what the API refuses.</summary>
    [Theory]
    [InlineData("""{"model":"gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""", "Unknown name \"model\"")]
    [InlineData("""{"contents":[{"role":"assistant","parts":[{"text":"Hi"}]}]}""", "valid role")]
    [InlineData("""{"contents":[{"role":"user","parts":[]}]}""", "must not be empty")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"a","inlineData":{"mimeType":"x","data":""}}]}]}""", "oneof")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"max_tokens":5}}""", "Unknown name \"max_tokens\"")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}}]}]}""", "additionalProperties")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{}}}]}]}""", "non-empty for OBJECT")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":"x"}}]}]}""", "expected a Struct")]
    public void Fake_RefusesWhatTheApiRefuses(string body, string problem) =>
        Assert.Contains(problem, FakeGemini.Validate(JsonDocument.Parse(body).RootElement));
}
