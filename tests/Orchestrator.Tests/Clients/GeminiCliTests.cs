using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orchestrator.Tests.EndToEnd;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// The real Gemini CLI (tests/clients, 0.61.0) through the relay's Gemini front, unchanged: <c>gemini -p</c> with its
/// default model and features, pointed at the relay by <c>GOOGLE_GEMINI_BASE_URL</c> with a client key in
/// <c>GEMINI_API_KEY</c>. A scripted upstream on 127.0.0.1 plays the model: its first answer calls the CLI's
/// <c>read_file</c> on a file holding a random token, its second (after the function response) says the token, which
/// must reach the CLI's output. Every JSON-schema call the CLI makes (its model router) gets JSON that fits the
/// schema. Run twice: the route native (a gemini-kind provider: the CLI's body goes up as written) and translated
/// (an openai-kind provider: the body is read into chat completions and the answer encoded back; and an anthropic-kind
/// one, two translations away).
/// </summary>
[Collection(RealClients.Name)]
public sealed class GeminiCliTests(ITestOutputHelper output)
{
    private const string ClientKey = "sk-gemini-cli-client-0123456789";
    private const string ProviderKey = "AIzaScriptedProviderKey-9876543210";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>Every id the CLI may ask for (its router picks flash or pro; flash-lite routes), each to the scripted upstream.</summary>
    private static readonly string[] ModelIds =
    [
        "gemini-3.5-flash-lite", "gemini-3.8-flash", "gemini-3.1-pro-preview", "gemini-3-flash-preview", "gemini-3-pro-preview",
        "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
    ];

    [SkippableFact]
    public async Task GeminiCli_NativeRoute_ReadsFileThroughToolRoundTrip()
    {
        var cli = CliTool.Require("gemini");
        var token = "tok-" + Guid.NewGuid().ToString("N")[..12];
        await using var upstream = await ScriptedUpstream.StartAsync(token);
        // The route's upstream model differs from the id the CLI asks for: the URL upstream must name the route's.
        var models = string.Join("\n", ModelIds.Select(id => $$"""  "{{id}}" { routes = [ { provider = gscript, model = "scripted-{{id}}" } ] }"""));
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{ClientKey}}"]
              providers { gscript { kind = gemini, base-url = "{{upstream.BaseUrl}}v1beta", api-key = "{{ProviderKey}}" } }
              models {
            {{models}}
              }
            }
            """);

        var run = await RunCliAsync(cli, relay, token);
        var seen = upstream.Requests.ToArray();
        output.WriteLine($"upstream saw: {string.Join(", ", seen.Select(r => r.Path))}");

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(token, run.Stdout);
        Assert.DoesNotContain("ClassifierStrategy failed", run.Stderr);   // the router read its JSON answer
        Assert.All(seen, r =>
        {
            Assert.StartsWith("/v1beta/models/scripted-gemini-", r.Path);
            Assert.Equal(ProviderKey, r.GoogKey);   // the provider's key replaced the client's
            Assert.Null(r.Authorization);
            Assert.DoesNotContain("key=", r.Query);
            Assert.DoesNotContain(ClientKey, r.Body.GetRawText());
        });
        // The router's call: its JSON schema arrived as the CLI wrote it (a translation would have lowered the types).
        var routing = Assert.Single(seen, r => r.Path.EndsWith(":generateContent") && r.Body.GetProperty("generationConfig").TryGetProperty("responseJsonSchema", out _));
        Assert.Equal("OBJECT", routing.Body.GetProperty("generationConfig").GetProperty("responseJsonSchema").GetProperty("type").GetString());
        var turns = seen.Where(r => r.Path.EndsWith(":streamGenerateContent")).ToArray();
        Assert.True(turns.Length >= 2, "the CLI sent its request and the tool's result");
        Assert.All(turns, r => Assert.Equal("sse", r.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("alt=")).Split('=')[1]));
        // Fields no translation carries went up unchanged: Gemini's own tool schema form and sampling knobs.
        var first = turns[0].Body;
        Assert.Contains(first.GetProperty("tools")[0].GetProperty("functionDeclarations").EnumerateArray(),
            d => d.GetProperty("name").GetString() == "read_file" && d.TryGetProperty("parametersJsonSchema", out _));
        Assert.True(first.GetProperty("generationConfig").TryGetProperty("topK", out _));
        Assert.True(first.GetProperty("generationConfig").TryGetProperty("thinkingConfig", out _));
        Assert.False(first.TryGetProperty("model", out _));
        // The second turn: the model's call came back with the thought signature it carried, and its response with the token.
        var answer = turns.Last(r => ScriptedUpstream.HasFunctionResponse(r.Body)).Body;
        var text = answer.GetRawText();
        Assert.Contains(ScriptedUpstream.Signature, text);
        Assert.Contains(token, text);
    }

    [SkippableFact]
    public async Task GeminiCli_TranslatedRoute_ReadsFileThroughToolRoundTrip()
    {
        var cli = CliTool.Require("gemini");
        var token = "tok-" + Guid.NewGuid().ToString("N")[..12];
        await using var upstream = await ScriptedUpstream.StartAsync(token);
        var models = string.Join("\n", ModelIds.Select(id => $$"""  "{{id}}" { routes = [ { provider = oscript, model = "scripted-{{id}}" } ] }"""));
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{ClientKey}}"]
              providers { oscript { kind = openai, base-url = "{{upstream.BaseUrl}}v1", api-key = "sk-scripted-provider-key" } }
              models {
            {{models}}
              }
            }
            """);

        var run = await RunCliAsync(cli, relay, token);
        var seen = upstream.Requests.ToArray();
        output.WriteLine($"upstream saw: {string.Join(", ", seen.Select(r => r.Body.TryGetProperty("model", out var m) ? m.GetString() : r.Path))}");

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(token, run.Stdout);
        Assert.DoesNotContain("ClassifierStrategy failed", run.Stderr);   // the router read its JSON answer
        Assert.All(seen, r =>
        {
            Assert.Equal("/v1/chat/completions", r.Path);
            Assert.Equal("Bearer sk-scripted-provider-key", r.Authorization);
            Assert.DoesNotContain(ClientKey, r.Body.GetRawText());
        });
        // The router's JSON schema became a json_schema response format, with JSON schema's own (lower-case) types.
        var routing = Assert.Single(seen, r => r.Body.TryGetProperty("response_format", out _) && r.Body.GetProperty("model").GetString() == "scripted-gemini-3.5-flash-lite");
        var schema = routing.Body.GetProperty("response_format").GetProperty("json_schema").GetProperty("schema");
        Assert.Equal("object", schema.GetProperty("type").GetString());
        // The tool round trip: the assistant's call and the tool message that answers it share an id.
        var answer = seen.Last(r => ScriptedUpstream.HasToolMessage(r.Body)).Body;
        var messages = answer.GetProperty("messages").EnumerateArray().ToArray();
        var call = messages.Last(m => m.GetProperty("role").GetString() == "assistant" && m.TryGetProperty("tool_calls", out _)).GetProperty("tool_calls")[0];
        Assert.Equal("read_file", call.GetProperty("function").GetProperty("name").GetString());
        var result = messages.Last(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal(call.GetProperty("id").GetString(), result.GetProperty("tool_call_id").GetString());
        Assert.Contains(token, result.GetProperty("content").GetString());
        Assert.True(answer.TryGetProperty("tools", out var tools) && tools.EnumerateArray().Any(t => t.GetProperty("function").GetProperty("name").GetString() == "read_file"));
    }

    [SkippableFact]
    public async Task GeminiCli_AnthropicRoute_ReadsFileThroughToolRoundTrip()
    {
        var cli = CliTool.Require("gemini");
        var token = "tok-" + Guid.NewGuid().ToString("N")[..12];
        await using var upstream = await ScriptedUpstream.StartAsync(token);
        var models = string.Join("\n", ModelIds.Select(id => $$"""  "{{id}}" { routes = [ { provider = ascript, model = "scripted-{{id}}" } ] }"""));
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Warning, requests = off }
              auth.keys = ["{{ClientKey}}"]
              providers { ascript { kind = anthropic, base-url = "{{upstream.BaseUrl}}v1", api-key = "sk-ant-scripted-provider-key" } }
              models {
            {{models}}
              }
            }
            """);

        var run = await RunCliAsync(cli, relay, token);
        var seen = upstream.Requests.ToArray();
        output.WriteLine($"upstream saw: {string.Join(", ", seen.Select(r => r.Body.TryGetProperty("model", out var m) ? m.GetString() : r.Path))}");

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(token, run.Stdout);
        Assert.All(seen, r =>
        {
            Assert.Equal("/v1/messages", r.Path);
            Assert.Equal("sk-ant-scripted-provider-key", r.AnthropicKey);
            Assert.DoesNotContain(ClientKey, r.Body.GetRawText());
        });
        // The tool round trip in Anthropic's words: the tool_use and the tool_result answering its id, with the token.
        var answer = seen.Last(r => ScriptedUpstream.HasToolResult(r.Body)).Body;
        var turns = answer.GetProperty("messages").EnumerateArray().ToArray();
        var call = turns.SelectMany(m => m.GetProperty("content").ValueKind == JsonValueKind.Array ? m.GetProperty("content").EnumerateArray() : [])
            .Last(b => b.GetProperty("type").GetString() == "tool_use");
        var result = turns.SelectMany(m => m.GetProperty("content").ValueKind == JsonValueKind.Array ? m.GetProperty("content").EnumerateArray() : [])
            .Last(b => b.GetProperty("type").GetString() == "tool_result");
        Assert.Equal(call.GetProperty("id").GetString(), result.GetProperty("tool_use_id").GetString());
        Assert.Contains(token, result.GetRawText());
    }

    private async Task<CliTool.Run> RunCliAsync(CliTool cli, RelayHost relay, string token)
    {
        var work = Directory.CreateTempSubdirectory("gemini-cli-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work.FullName, ScriptedUpstream.FileName), $"The secret token is {token}.\n");
            await ClientHomes.GeminiAsync(work.FullName);
            var env = new Dictionary<string, string>
            {
                ["GOOGLE_GEMINI_BASE_URL"] = relay.BaseUrl.ToString().TrimEnd('/'),
                ["GEMINI_API_KEY"] = ClientKey,
                // Headless runs refuse an untrusted folder; this is the CLI's documented switch for automation.
                ["GEMINI_CLI_TRUST_WORKSPACE"] = "true",
                // Its error reports go to the temp directory: this run's own, removed with it.
                ["TMPDIR"] = Directory.CreateDirectory(Path.Combine(work.FullName, ".tmp")).FullName,
            };
            var run = await cli.RunAsync(["-p", $"What is the secret token in the file {ScriptedUpstream.FileName}? Read it and tell me."], env, work.FullName, Bound);
            output.WriteLine(run.ToString());
            return run;
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A file the CLI still held: the temp directory is cleaned up by the OS.
            }
        }
    }

    /// <summary>
    /// The model, scripted: a Gemini API (<c>/v1beta/models/{model}:method</c>), an OpenAI chat API
    /// (<c>/v1/chat/completions</c>) and an Anthropic Messages API (<c>/v1/messages</c>) on one loopback port, recording every request. A request with a JSON schema gets
    /// JSON that fits it; a conversation without a tool result gets a <c>read_file</c> call; one with it gets the token.
    /// </summary>
    private sealed class ScriptedUpstream : IAsyncDisposable
    {
        public const string FileName = "secret.txt";
        public const string Signature = "c2NyaXB0ZWQtdGhvdWdodC1zaWduYXR1cmU=";

        private readonly WebApplication _app;
        private readonly string _token;

        private ScriptedUpstream(WebApplication app, Uri baseUrl, string token)
        {
            _app = app;
            BaseUrl = baseUrl;
            _token = token;
        }

        public Uri BaseUrl { get; }

        public sealed record Recorded(string Path, string Query, string? GoogKey, string? Authorization, string? AnthropicKey, JsonElement Body);

        public ConcurrentQueue<Recorded> Requests { get; } = new();

        public static async Task<ScriptedUpstream> StartAsync(string token)
        {
            ScriptedUpstream? upstream = null;
            var (app, url) = await LoopbackApp.StartAsync(app =>
            {
                app.MapPost("/v1beta/models/{*call}", (HttpContext http, string call) => upstream!.GeminiAsync(http, call));
                app.MapPost("/v1/chat/completions", (HttpContext http) => upstream!.ChatAsync(http));
                app.MapPost("/v1/messages", (HttpContext http) => upstream!.MessagesAsync(http));
            });
            upstream = new ScriptedUpstream(app, url, token);
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        public static bool HasFunctionResponse(JsonElement body) =>
            body.GetProperty("contents").EnumerateArray().Any(c => c.TryGetProperty("parts", out var parts)
                && parts.EnumerateArray().Any(p => p.TryGetProperty("functionResponse", out _)));

        public static bool HasToolResult(JsonElement body) =>
            body.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("content") is { ValueKind: JsonValueKind.Array } blocks
                && blocks.EnumerateArray().Any(b => b.GetProperty("type").GetString() == "tool_result"));

        public static bool HasToolMessage(JsonElement body) =>
            body.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");

        private async Task<JsonElement> RecordAsync(HttpContext http)
        {
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
            Requests.Enqueue(new Recorded(http.Request.Path, http.Request.QueryString.Value ?? "",
                http.Request.Headers["x-goog-api-key"].FirstOrDefault(), http.Request.Headers.Authorization.FirstOrDefault(),
                http.Request.Headers["x-api-key"].FirstOrDefault(), body));
            return body;
        }

        private async Task GeminiAsync(HttpContext http, string call)
        {
            var body = await RecordAsync(http);
            JsonNode? parts;
            if (body.TryGetProperty("generationConfig", out var config)
                && (config.TryGetProperty("responseJsonSchema", out var schema) || config.TryGetProperty("responseSchema", out schema)))
                parts = new JsonArray(new JsonObject { ["text"] = Fill(schema)!.ToJsonString() });
            else if (HasFunctionResponse(body)) parts = new JsonArray(new JsonObject { ["text"] = $"The secret token is {_token}." });
            else
            {
                parts = new JsonArray(new JsonObject
                {
                    ["functionCall"] = new JsonObject { ["name"] = "read_file", ["args"] = new JsonObject { ["file_path"] = FileName } },
                    ["thoughtSignature"] = Signature,
                });
            }
            var response = new JsonObject
            {
                ["candidates"] = new JsonArray(new JsonObject
                {
                    ["content"] = new JsonObject { ["role"] = "model", ["parts"] = parts },
                    ["finishReason"] = "STOP",
                    ["index"] = 0,
                }),
                ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 120, ["candidatesTokenCount"] = 9, ["totalTokenCount"] = 129 },
                ["modelVersion"] = call.Split(':')[0],
                ["responseId"] = "scripted-" + Requests.Count,
            };
            if (call.EndsWith(":streamGenerateContent"))
            {
                http.Response.ContentType = "text/event-stream";
                await http.Response.WriteAsync("data: " + response.ToJsonString() + "\r\n\r\n");
            }
            else
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(response.ToJsonString());
            }
        }

        private async Task ChatAsync(HttpContext http)
        {
            var body = await RecordAsync(http);
            var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            string? content = null;
            var callTool = false;
            if (body.TryGetProperty("response_format", out var format) && format.TryGetProperty("json_schema", out var jsonSchema))
                content = Fill(jsonSchema.GetProperty("schema"))!.ToJsonString();
            else if (format.ValueKind == JsonValueKind.Object) content = "{}";
            else if (HasToolMessage(body)) content = $"The secret token is {_token}.";
            else if (body.TryGetProperty("tools", out _)) callTool = true;
            else content = "ok";

            var model = body.GetProperty("model").GetString();
            var arguments = new JsonObject { ["file_path"] = FileName }.ToJsonString();
            if (!stream)
            {
                var message = callTool
                    ? new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(ToolCall(arguments)) }
                    : new JsonObject { ["role"] = "assistant", ["content"] = content };
                var completion = new JsonObject
                {
                    ["id"] = "chatcmpl-scripted", ["object"] = "chat.completion", ["created"] = 1, ["model"] = model,
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = callTool ? "tool_calls" : "stop" }),
                    ["usage"] = new JsonObject { ["prompt_tokens"] = 120, ["completion_tokens"] = 9, ["total_tokens"] = 129 },
                };
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(completion.ToJsonString());
                return;
            }

            http.Response.ContentType = "text/event-stream";
            var events = new List<JsonObject>();
            if (callTool)
            {
                var call = ToolCall("");
                call["index"] = 0;
                events.Add(Delta(new JsonObject { ["role"] = "assistant", ["tool_calls"] = new JsonArray(call) }));
                // The arguments in pieces, as OpenAI streams them: the front must wait for the whole object.
                foreach (var piece in new[] { arguments[..5], arguments[5..] })
                    events.Add(Delta(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = piece } }) }));
                events.Add(Delta(new JsonObject(), "tool_calls"));
            }
            else
            {
                events.Add(Delta(new JsonObject { ["role"] = "assistant", ["content"] = "" }));
                var half = content!.Length / 2;
                events.Add(Delta(new JsonObject { ["content"] = content[..half] }));
                events.Add(Delta(new JsonObject { ["content"] = content[half..] }));
                events.Add(Delta(new JsonObject(), "stop"));
            }
            var usage = Chunk(model, new JsonArray());
            usage["usage"] = new JsonObject { ["prompt_tokens"] = 120, ["completion_tokens"] = 9, ["total_tokens"] = 129 };
            events.Add(usage);
            var sse = new StringBuilder();
            foreach (var e in events) sse.Append("data: ").Append(e.ToJsonString()).Append("\n\n");
            sse.Append("data: [DONE]\n\n");
            await http.Response.WriteAsync(sse.ToString());

            JsonObject Delta(JsonObject delta, string? finish = null) =>
                Chunk(model, new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }));
        }

        /// <summary>Anthropic's Messages API: JSON for a call without tools (the router), else a tool_use, then the token.</summary>
        /// <summary>The tool a request's tool_choice forces ({"type":"tool","name":...}), from its tools; null when none is forced.</summary>
        private static JsonElement? Forced(JsonElement body) =>
            body.TryGetProperty("tool_choice", out var choice) && choice.ValueKind == JsonValueKind.Object
            && choice.TryGetProperty("type", out var type) && type.GetString() == "tool" && choice.TryGetProperty("name", out var name)
            && body.TryGetProperty("tools", out var tools)
                ? tools.EnumerateArray().Cast<JsonElement?>().FirstOrDefault(t => t!.Value.GetProperty("name").GetString() == name.GetString())
                : null;

        private async Task MessagesAsync(HttpContext http)
        {
            var body = await RecordAsync(http);
            var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var model = body.GetProperty("model").GetString();
            var callTool = false;
            string text;
            var toolName = "read_file";
            var arguments = new JsonObject { ["file_path"] = FileName }.ToJsonString();
            if (HasToolResult(body)) text = $"The secret token is {_token}.";
            else if (Forced(body) is { } forced)
            {
                // As Anthropic honours tool_choice {type: tool}: the relay asks for structured output this way.
                (callTool, text, toolName) = (true, "", forced.GetProperty("name").GetString()!);
                arguments = Fill(forced.GetProperty("input_schema"))!.ToJsonString();
            }
            else if (body.TryGetProperty("tools", out _)) (callTool, text) = (true, "");
            else text = """{"complexity_reasoning":"simple","complexity_score":5}""";
            if (!stream)
            {
                var content = callTool
                    ? new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_scripted_read", ["name"] = toolName, ["input"] = JsonNode.Parse(arguments) }
                    : new JsonObject { ["type"] = "text", ["text"] = text };
                var message = new JsonObject
                {
                    ["id"] = "msg_scripted", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(content),
                    ["stop_reason"] = callTool ? "tool_use" : "end_turn", ["stop_sequence"] = null,
                    ["usage"] = new JsonObject { ["input_tokens"] = 120, ["output_tokens"] = 9 },
                };
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(message.ToJsonString());
                return;
            }
            var sse = new StringBuilder();
            void Event(string name, JsonObject data) => sse.Append("event: ").Append(name).Append("\ndata: ").Append(data.ToJsonString()).Append("\n\n");
            Event("message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = "msg_scripted", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                    ["stop_reason"] = null, ["stop_sequence"] = null, ["usage"] = new JsonObject { ["input_tokens"] = 120, ["output_tokens"] = 1 },
                },
            });
            if (callTool)
            {
                Event("content_block_start", new JsonObject
                {
                    ["type"] = "content_block_start", ["index"] = 0,
                    ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_scripted_read", ["name"] = toolName, ["input"] = new JsonObject() },
                });
                foreach (var piece in new[] { arguments[..5], arguments[5..] })
                    Event("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece } });
            }
            else
            {
                Event("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
                Event("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text } });
            }
            Event("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
            Event("message_delta", new JsonObject
            {
                ["type"] = "message_delta",
                ["delta"] = new JsonObject { ["stop_reason"] = callTool ? "tool_use" : "end_turn", ["stop_sequence"] = null },
                ["usage"] = new JsonObject { ["output_tokens"] = 9 },
            });
            Event("message_stop", new JsonObject { ["type"] = "message_stop" });
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync(sse.ToString());
        }

        private static JsonObject Chunk(string? model, JsonArray choices) => new()
        {
            ["id"] = "chatcmpl-scripted", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model, ["choices"] = choices,
        };

        private static JsonObject ToolCall(string arguments) => new()
        {
            ["id"] = "call_scripted_read", ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "read_file", ["arguments"] = arguments },
        };

        /// <summary>A value that fits a JSON schema (Gemini's capitalised types too): the first enum value, 5, "simple", ...</summary>
        private static JsonNode? Fill(JsonElement schema)
        {
            if (schema.TryGetProperty("enum", out var options) && options.GetArrayLength() > 0) return JsonNode.Parse(options[0].GetRawText());
            var type = schema.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()!.ToLowerInvariant() : "object";
            switch (type)
            {
                case "object":
                    var obj = new JsonObject();
                    if (schema.TryGetProperty("properties", out var properties))
                        foreach (var property in properties.EnumerateObject()) obj[property.Name] = Fill(property.Value);
                    return obj;
                case "array":
                    return new JsonArray();
                case "integer" or "number":
                    return 5;
                case "boolean":
                    return false;
                default:
                    return "simple";
            }
        }
    }
}
