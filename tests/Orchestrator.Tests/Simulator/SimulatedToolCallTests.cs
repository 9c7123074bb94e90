using System.Text.Json;
using Orchestrator.Actors.Simulator;

namespace Orchestrator.Tests.Simulator;

/// <summary>When the simulator calls a tool: only when asked, never in a loop a client cannot leave.</summary>
public sealed class SimulatedToolCallTests
{
    private const string Tools = """[{"type":"function","function":{"name":"Read","parameters":{"type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"]}}},{"type":"function","function":{"name":"Agent","parameters":{"type":"object"}}}]""";

    private static SimulatedToolCall? For(string messages, string? toolChoice = null) =>
        SimulatedToolCall.For(JsonDocument.Parse($$"""{"model":"m","messages":{{messages}},"tools":{{Tools}}{{(toolChoice is null ? "" : ",\"tool_choice\":" + toolChoice)}}}""").RootElement);

    [Fact]
    public void UsersOwnWords_NameATool_ItIsCalledWithExampleArguments()
    {
        var call = For("""[{"role":"user","content":"Read the file secret.txt"}]""");
        Assert.Equal("Read", call?.Name);
        Assert.Equal("""{"file_path":"example"}""", call!.Arguments);
    }

    [Fact]
    public void AReminderBlock_NamingATool_IsNotAsking()
    {
        // Claude Code's reminders name its Agent tool in every turn; Codex wraps its context in tags too.
        var content = """[{"type":"text","text":"<system-reminder>Use the Agent tool for searches.</system-reminder>"},{"type":"text","text":"What is 2 + 2?"}]""";
        Assert.Null(For($$"""[{"role":"user","content":{{content}}}]"""));
        Assert.Null(For("""[{"role":"user","content":"<environment_context>tools: Read, Agent</environment_context>\nhello"}]"""));
        Assert.Equal("Agent", For("""[{"role":"user","content":"<system-reminder>x</system-reminder> start an Agent please"}]""")?.Name);
    }

    [Fact]
    public void AToolName_InsideAnotherWord_IsNotAsking() =>
        Assert.Null(For("""[{"role":"user","content":"Reading the docs is done, thanks."}]"""));

    [Fact]
    public void ATurnAfterAToolResult_NeverCallsAgain()
    {
        // The client's next user message (a reminder, or its own text) rides after the result: still an answer to it.
        var messages = """
            [{"role":"user","content":"Read the file"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"Read","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"TOKEN"},
             {"role":"user","content":"Read it again"}]
            """;
        Assert.Null(For(messages));
        Assert.Null(For(messages, "\"required\""));
    }

    [Fact]
    public void ToolChoice_RequiredOrNamed_CallsWhateverTheText() =>
        Assert.Equal("Agent", For("""[{"role":"user","content":"hi"}]""", """{"type":"function","function":{"name":"Agent"}}""")?.Name);

    [Fact]
    public void StructuredOutput_TheAnswerIsAnObjectOfTheSchemasShape()
    {
        // Gemini CLI's router asks for {reasoning, model_choice} and retries for minutes when it gets prose.
        var body = JsonDocument.Parse("""
            {"model":"m","messages":[{"role":"user","content":"route this"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"OBJECT","properties":{
               "reasoning":{"type":"STRING"},"model_choice":{"type":"string","enum":["flash","pro"]},"score":{"type":["integer","null"]},
               "extra":{"type":"object","properties":{"n":{"type":"number"}},"required":["n"]}},
               "required":["reasoning","model_choice","score","extra"]}}}}
            """).RootElement;
        var answer = SimulatedAnswer.For(body, 40, null);
        Assert.Equal("""{"reasoning":"example","model_choice":"flash","score":1,"extra":{"n":1}}""", string.Concat(answer.Tokens));
        Assert.Equal("stop", answer.FinishReason);
    }
}
