using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orchestrator.Tests.EndToEnd;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// The real Codex CLI (<c>codex exec</c>, default model and features: code mode, its <c>exec</c> tool a custom tool
/// whose input is JavaScript, declared in an <c>additional_tools</c> input item) through the relay's
/// <c>/v1/responses</c>, onto a scripted upstream on 127.0.0.1 that records every request. One real tool round
/// trip: the model's first answer is an <c>exec</c> call whose script runs Codex's shell tool to read a file
/// holding a random token; the second answer, written after the <c>custom_tool_call_output</c> came back, repeats
/// what the tool printed. Codex must print the token, so the token can only reach its output through the tool.
/// </summary>
[Collection(RealClients.Name)]
public sealed class CodexCliTests
{
    private const string RelayKey = "sk-test-client";
    private const string UpstreamKey = "sk-upstream-secret-codex";
    private const string CodexModel = "gpt-6.1-sol";
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(120);

    // Code mode's exec input: JavaScript in which Codex's tools are async functions on the global `tools`, and
    // text() is what the script hands back to the model.
    private const string ReadTokenScript = "const r = await tools.exec_command({cmd: \"cat token.txt\"});\ntext(r.output);";

    private sealed record Recorded(string Path, IHeaderDictionary Headers, JsonElement Body);

    [SkippableFact]
    public async Task Codex_ThroughATranslatedChatRoute_RunsItsExecToolAndSaysTheToken()
    {
        var codex = CliTool.Require("codex");
        var recorded = new ConcurrentQueue<Recorded>();
        var (upstream, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/v1/models", () => Results.Json(new { data = Array.Empty<object>() }));
            app.MapPost("/v1/chat/completions", http => ChatAnswerAsync(http, recorded));
        });
        try
        {
            var (run, token) = await RunCodexAsync(codex, url, "kind = openai");
            Assert.False(run.TimedOut, run.ToString());
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains(token, run.Stdout + run.Stderr);

            var requests = recorded.ToArray();
            Assert.True(requests.Length >= 2, $"{requests.Length} upstream requests");
            Assert.All(requests, r => Assert.Equal($"Bearer {UpstreamKey}", r.Headers.Authorization.ToString()));
            var first = requests[0].Body;
            Assert.Equal("scripted", first.GetProperty("model").GetString());
            // Code mode's tools arrived as chat functions: exec as a function of one string.
            var exec = first.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function")).Single(f => f.GetProperty("name").GetString() == "exec");
            Assert.Equal("string", exec.GetProperty("parameters").GetProperty("properties").GetProperty("input").GetProperty("type").GetString());
            // The second turn carries the call (its input wrapped) and what the script printed, as the tool's result.
            var messages = requests[^1].Body.GetProperty("messages").EnumerateArray().ToList();
            var call = messages.Single(m => m.TryGetProperty("tool_calls", out _)).GetProperty("tool_calls")[0];
            Assert.Equal("call_codex_1", call.GetProperty("id").GetString());
            Assert.Equal(ReadTokenScript, JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("input").GetString());
            var result = messages.Single(m => m.GetProperty("role").GetString() == "tool");
            Assert.Equal("call_codex_1", result.GetProperty("tool_call_id").GetString());
            Assert.Contains(token, result.GetProperty("content").GetString());
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Codex_ThroughANativeResponsesRoute_GetsTheUpstreamsEventsAndSendsItsRequestUnchanged()
    {
        var codex = CliTool.Require("codex");
        var recorded = new ConcurrentQueue<Recorded>();
        var (upstream, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/v1/models", () => Results.Json(new { data = Array.Empty<object>() }));
            app.MapPost("/v1/responses", http => ResponsesAnswerAsync(http, recorded));
        });
        try
        {
            var (run, token) = await RunCodexAsync(codex, url, "kind = openai, responses = on");
            Assert.False(run.TimedOut, run.ToString());
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains(token, run.Stdout + run.Stderr);

            var requests = recorded.ToArray();
            Assert.True(requests.Length >= 2, $"{requests.Length} upstream requests");
            Assert.All(requests, r => Assert.Equal($"Bearer {UpstreamKey}", r.Headers.Authorization.ToString()));
            var first = requests[0].Body;
            Assert.Equal("scripted", first.GetProperty("model").GetString());
            Assert.True(first.GetProperty("stream").GetBoolean());
            // What Codex wrote reached the upstream as it wrote it.
            Assert.Equal(JsonValueKind.Object, first.GetProperty("client_metadata").ValueKind);
            Assert.False(string.IsNullOrEmpty(first.GetProperty("prompt_cache_key").GetString()));
            Assert.Equal(["reasoning.encrypted_content"], first.GetProperty("include").EnumerateArray().Select(i => i.GetString()));
            Assert.False(first.GetProperty("store").GetBoolean());
            Assert.Equal("additional_tools", first.GetProperty("input")[0].GetProperty("type").GetString());
            Assert.Contains(first.GetProperty("input")[0].GetProperty("tools").EnumerateArray(), t => t.GetProperty("type").GetString() == "namespace");
            // The second turn: Codex's items as it keeps them, the call with its namespace and its output.
            var items = requests[^1].Body.GetProperty("input").EnumerateArray().ToList();
            var call = items.Single(i => i.GetProperty("type").GetString() == "custom_tool_call");
            Assert.Equal("functions", call.GetProperty("namespace").GetString());
            Assert.Equal(ReadTokenScript, call.GetProperty("input").GetString());
            Assert.Contains(items, i => i.GetProperty("type").GetString() == "reasoning" && i.GetProperty("encrypted_content").GetString() == "enc-opaque-1");
            Assert.Contains(token, items.Single(i => i.GetProperty("type").GetString() == "custom_tool_call_output").GetProperty("output").GetRawText());
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Codex_ThroughATranslatedAnthropicRoute_RunsItsExecToolAndSaysTheToken()
    {
        var codex = CliTool.Require("codex");
        var recorded = new ConcurrentQueue<Recorded>();
        var (upstream, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/v1/models", () => Results.Json(new { data = Array.Empty<object>() }));
            app.MapPost("/v1/messages", http => AnthropicAnswerAsync(http, recorded));
        });
        try
        {
            var (run, token) = await RunCodexAsync(codex, url, "kind = anthropic");
            Assert.False(run.TimedOut, run.ToString());
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains(token, run.Stdout + run.Stderr);

            var requests = recorded.ToArray();
            Assert.True(requests.Length >= 2, $"{requests.Length} upstream requests");
            Assert.All(requests, r => Assert.Equal(UpstreamKey, r.Headers["x-api-key"].ToString()));
            var exec = requests[0].Body.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "exec");
            Assert.Equal("string", exec.GetProperty("input_schema").GetProperty("properties").GetProperty("input").GetProperty("type").GetString());
            var blocks = requests[^1].Body.GetProperty("messages").EnumerateArray()
                .Where(m => m.GetProperty("content").ValueKind == JsonValueKind.Array).SelectMany(m => m.GetProperty("content").EnumerateArray()).ToList();
            var use = blocks.Single(b => b.GetProperty("type").GetString() == "tool_use");
            Assert.Equal("toolu_codex_1", use.GetProperty("id").GetString());
            Assert.Equal(ReadTokenScript, use.GetProperty("input").GetProperty("input").GetString());
            var result = blocks.Single(b => b.GetProperty("type").GetString() == "tool_result");
            Assert.Equal("toolu_codex_1", result.GetProperty("tool_use_id").GetString());
            Assert.Contains(token, result.GetRawText());
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    /// <summary>Codex in a directory of its own with a token file, its config pointing at a relay routed to <paramref name="upstream"/>.</summary>
    private static async Task<(CliTool.Run Run, string Token)> RunCodexAsync(CliTool codex, Uri upstream, string providerKind)
    {
        var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["{{RelayKey}}"]
              model-defaults { first-byte-timeout = 20s, first-token-timeout = 20s, idle-timeout = 20s }
              providers {
                scripted { {{providerKind}}, base-url = "{{new Uri(upstream, "/v1")}}", api-key = "{{UpstreamKey}}" }
              }
              models {
                "{{CodexModel}}" { routes = [ { provider = scripted, model = "scripted" } ] }
              }
            }
            """);
        var work = Directory.CreateTempSubdirectory("codex-cli-");
        try
        {
            var token = "tok-" + Guid.NewGuid().ToString("N");
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "token.txt"), token + "\n");
            var codexHome = await ClientHomes.CodexAsync(Path.Combine(work.FullName, ".codex-home"), relay.BaseUrl, "RELAY_API_KEY", noRetries: true);
            var watch = Stopwatch.StartNew();
            var run = await codex.RunAsync(
                ["exec", "--skip-git-repo-check", "--sandbox", "read-only", "Read the file token.txt and tell me the token in it."],
                new Dictionary<string, string> { ["CODEX_HOME"] = codexHome, ["RELAY_API_KEY"] = RelayKey },
                work.FullName, RunBound);
            Assert.True(watch.Elapsed < RunBound, $"codex ran {watch.Elapsed}");
            return (run, token);
        }
        finally
        {
            await relay.DisposeAsync();
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Codex may still be closing a file it wrote; the temp directory goes with the machine.
            }
        }
    }

    private static async Task<JsonElement> RecordAsync(HttpContext http, ConcurrentQueue<Recorded> recorded)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone();
        recorded.Enqueue(new Recorded(http.Request.Path, new HeaderDictionary(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
        return body;
    }

    private static async Task WriteEventsAsync(HttpContext http, IEnumerable<string> events)
    {
        http.Response.ContentType = "text/event-stream";
        foreach (var e in events)
        {
            await http.Response.WriteAsync(e);
            await http.Response.Body.FlushAsync();
        }
    }

    /// <summary>A chat completions model: an exec call first; once a tool result is in, what it printed.</summary>
    private static async Task ChatAnswerAsync(HttpContext http, ConcurrentQueue<Recorded> recorded)
    {
        var body = await RecordAsync(http, recorded);
        var toolResult = body.GetProperty("messages").EnumerateArray().LastOrDefault(m => m.GetProperty("role").GetString() == "tool");
        string Chunk(object delta, string? finish) => "data: " + JsonSerializer.Serialize(new
        {
            id = "chatcmpl-scripted", @object = "chat.completion.chunk", created = 1, model = "scripted",
            choices = new[] { new { index = 0, delta, finish_reason = finish } },
        }) + "\n\n";
        var usage = "data: {\"id\":\"chatcmpl-scripted\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"scripted\",\"choices\":[],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":10,\"total_tokens\":60}}\n\n";
        if (toolResult.ValueKind != JsonValueKind.Object)
        {
            var arguments = JsonSerializer.Serialize(new { input = ReadTokenScript });
            await WriteEventsAsync(http,
            [
                Chunk(new { role = "assistant", tool_calls = new[] { new { index = 0, id = "call_codex_1", type = "function", function = new { name = "exec", arguments = "" } } } }, null),
                Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = arguments[..10] } } } }, null),
                Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = arguments[10..] } } } }, null),
                Chunk(new { }, "tool_calls"),
                usage,
                "data: [DONE]\n\n",
            ]);
            return;
        }
        var printed = toolResult.GetProperty("content").ValueKind == JsonValueKind.String ? toolResult.GetProperty("content").GetString()! : toolResult.GetProperty("content").GetRawText();
        await WriteEventsAsync(http,
        [
            Chunk(new { role = "assistant", content = "The tool printed: " }, null),
            Chunk(new { content = printed.Replace("\n", " ") }, null),
            Chunk(new { }, "stop"),
            usage,
            "data: [DONE]\n\n",
        ]);
    }

    /// <summary>An Anthropic Messages model: an exec tool_use first; once a tool_result is in, what it held.</summary>
    private static async Task AnthropicAnswerAsync(HttpContext http, ConcurrentQueue<Recorded> recorded)
    {
        var body = await RecordAsync(http, recorded);
        var result = body.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("content").ValueKind == JsonValueKind.Array).SelectMany(m => m.GetProperty("content").EnumerateArray())
            .LastOrDefault(b => b.GetProperty("type").GetString() == "tool_result");
        static string Event(string type, object data)
        {
            var json = JsonSerializer.SerializeToNode(data)!.AsObject();
            json.Insert(0, "type", type);
            return $"event: {type}\ndata: {json.ToJsonString()}\n\n";
        }
        var start = Event("message_start", new { message = new { id = "msg_scripted", type = "message", role = "assistant", model = "scripted", content = Array.Empty<object>(), stop_reason = (string?)null, usage = new { input_tokens = 50, output_tokens = 1 } } });
        if (result.ValueKind != JsonValueKind.Object)
        {
            var input = JsonSerializer.Serialize(new { input = ReadTokenScript });
            await WriteEventsAsync(http,
            [
                start,
                Event("content_block_start", new { index = 0, content_block = new { type = "tool_use", id = "toolu_codex_1", name = "exec", input = new { } } }),
                Event("content_block_delta", new { index = 0, delta = new { type = "input_json_delta", partial_json = input[..9] } }),
                Event("content_block_delta", new { index = 0, delta = new { type = "input_json_delta", partial_json = input[9..] } }),
                Event("content_block_stop", new { index = 0 }),
                Event("message_delta", new { delta = new { stop_reason = "tool_use" }, usage = new { output_tokens = 10 } }),
                Event("message_stop", new { }),
            ]);
            return;
        }
        var content = result.GetProperty("content");
        var printed = content.ValueKind == JsonValueKind.String
            ? content.GetString()!
            : string.Concat(content.EnumerateArray().Select(b => b.TryGetProperty("text", out var t) ? t.GetString() : ""));
        await WriteEventsAsync(http,
        [
            start,
            Event("content_block_start", new { index = 0, content_block = new { type = "text", text = "" } }),
            Event("content_block_delta", new { index = 0, delta = new { type = "text_delta", text = "The tool printed: " + printed.Replace("\n", " ") } }),
            Event("content_block_stop", new { index = 0 }),
            Event("message_delta", new { delta = new { stop_reason = "end_turn" }, usage = new { output_tokens = 10 } }),
            Event("message_stop", new { }),
        ]);
    }

    /// <summary>A Responses model: reasoning (encrypted) and an exec call first; once the call's output is in, what it printed.</summary>
    private static async Task ResponsesAnswerAsync(HttpContext http, ConcurrentQueue<Recorded> recorded)
    {
        var body = await RecordAsync(http, recorded);
        var output = body.GetProperty("input").EnumerateArray().LastOrDefault(i => i.GetProperty("type").GetString() == "custom_tool_call_output");
        var sequence = 0;
        string Event(string type, object fields)
        {
            var json = JsonSerializer.SerializeToNode(fields)!.AsObject();
            json.Insert(0, "type", type);
            json.Insert(1, "sequence_number", sequence++);
            return $"event: {type}\ndata: {json.ToJsonString()}\n\n";
        }
        var usage = new { input_tokens = 50, input_tokens_details = new { cached_tokens = 40 }, output_tokens = 10, output_tokens_details = new { reasoning_tokens = 3 }, total_tokens = 60 };
        if (output.ValueKind != JsonValueKind.Object)
        {
            var reasoning = new { id = "rs_1", type = "reasoning", summary = Array.Empty<object>(), encrypted_content = "enc-opaque-1" };
            var call = new { id = "ctc_1", type = "custom_tool_call", status = "completed", call_id = "call_codex_1", name = "exec", @namespace = "functions", input = ReadTokenScript };
            await WriteEventsAsync(http,
            [
                Event("response.created", new { response = new { id = "resp_up_1", @object = "response", status = "in_progress", output = Array.Empty<object>() } }),
                Event("response.output_item.added", new { output_index = 0, item = new { id = "rs_1", type = "reasoning", summary = Array.Empty<object>() } }),
                Event("response.output_item.done", new { output_index = 0, item = reasoning }),
                Event("response.output_item.added", new { output_index = 1, item = call with { status = "in_progress", input = "" } }),
                Event("response.custom_tool_call_input.delta", new { item_id = "ctc_1", output_index = 1, delta = ReadTokenScript[..12] }),
                Event("response.custom_tool_call_input.delta", new { item_id = "ctc_1", output_index = 1, delta = ReadTokenScript[12..] }),
                Event("response.custom_tool_call_input.done", new { item_id = "ctc_1", output_index = 1, input = ReadTokenScript }),
                Event("response.output_item.done", new { output_index = 1, item = call }),
                Event("response.upstream_only_event", new { note = "an event type the relay does not know" }),
                Event("response.completed", new { response = new { id = "resp_up_1", @object = "response", status = "completed", output = new object[] { reasoning, call }, usage } }),
            ]);
            return;
        }
        var printed = string.Concat(output.GetProperty("output").EnumerateArray().Select(p => p.GetProperty("text").GetString())).Replace("\n", " ");
        var message = new { id = "msg_1", type = "message", status = "completed", role = "assistant", content = new[] { new { type = "output_text", text = "The tool printed: " + printed, annotations = Array.Empty<object>() } } };
        await WriteEventsAsync(http,
        [
            Event("response.created", new { response = new { id = "resp_up_2", @object = "response", status = "in_progress", output = Array.Empty<object>() } }),
            Event("response.output_item.added", new { output_index = 0, item = new { id = "msg_1", type = "message", status = "in_progress", role = "assistant", content = Array.Empty<object>() } }),
            Event("response.output_text.delta", new { item_id = "msg_1", output_index = 0, content_index = 0, delta = message.content[0].text }),
            Event("response.output_item.done", new { output_index = 0, item = message }),
            Event("response.completed", new { response = new { id = "resp_up_2", @object = "response", status = "completed", output = new object[] { message }, usage } }),
        ]);
    }
}
