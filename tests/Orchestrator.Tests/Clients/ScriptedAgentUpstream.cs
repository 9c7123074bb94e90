using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.Clients;

/// <summary>
/// A provider on 127.0.0.1 that plays the model in a coding agent's tool round trip, in the Anthropic Messages and
/// the OpenAI chat-completions dialects: a request that offers the tool <see cref="ToolName"/> and carries no tool
/// result gets a call of it (<see cref="ToolInput"/>); a request that carries a tool result gets, as text, the token
/// that result holds (<see cref="Token"/>'s shape), so the client's final answer proves the whole trip; any other
/// request (titles, summaries, quota probes) gets a short text. Every request is recorded with its headers.
/// </summary>
public sealed partial class ScriptedAgentUpstream : IAsyncDisposable
{
    public const string AnthropicKey = "sk-ant-scripted-upstream";
    public const string OpenAiKey = "sk-openai-scripted-upstream";
    public const string GeminiKey = "gemini-scripted-upstream-key";

    private readonly WebApplication _app;

    private ScriptedAgentUpstream(WebApplication app, Uri root, string toolName, string toolInput)
    {
        _app = app;
        Root = root;
        ToolName = toolName;
        ToolInput = toolInput;
    }

    /// <summary>The API root a provider's <c>base-url</c> names (<c>http://127.0.0.1:port/v1</c>).</summary>
    public Uri Root { get; }

    public string ToolName { get; }

    /// <summary>The tool call's input, a JSON object.</summary>
    public string ToolInput { get; }

    /// <summary>Anthropic text answers also carry a block type and an event type no relay knows (a redacted_thinking block, a future_event).</summary>
    public bool Novelties { get; set; }

    public sealed record Recorded(string Path, IReadOnlyDictionary<string, string> Headers, JsonElement Body, string Answered);

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    /// <summary>A token only a file can hold: <c>TOKEN-</c> and 16 hex digits.</summary>
    public static string NewToken() => "TOKEN-" + Guid.NewGuid().ToString("N")[..16];

    public static async Task<ScriptedAgentUpstream> StartAsync(string toolName, string toolInput)
    {
        ScriptedAgentUpstream? upstream = null;
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapPost("/v1/messages", http => upstream!.MessagesAsync(http));
            app.MapPost("/v1/chat/completions", http => upstream!.ChatAsync(http));
            // Gemini: POST /v1/models/{model}:generateContent or :streamGenerateContent?alt=sse (the route's base-url names /v1).
            app.MapPost("/v1/models/{**call}", (HttpContext http, string call) => upstream!.GeminiAsync(http, call));
        });
        return upstream = new ScriptedAgentUpstream(app, new Uri(url.ToString().TrimEnd('/') + "/v1"), toolName, toolInput);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private enum Turn { CallTool, SayToken, Chat }

    private (Turn Turn, string? Token) Decide(JsonElement body, bool offersTool)
    {
        // The token the last tool result carries; a result without one is answered with what it said.
        var results = ToolResults(body).ToList();
        if (results.Count > 0)
        {
            var found = TokenPattern().Match(results[^1]);
            return (Turn.SayToken, found.Success ? found.Value : "no token in the tool result: " + results[^1][..Math.Min(200, results[^1].Length)]);
        }
        return offersTool ? (Turn.CallTool, null) : (Turn.Chat, null);
    }

    // ---- Anthropic Messages -------------------------------------------------------------------------------------

    private async Task MessagesAsync(HttpContext http)
    {
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
        var offersTool = body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array
            && tools.EnumerateArray().Any(t => t.TryGetProperty("name", out var n) && n.GetString() == ToolName);
        var (turn, token) = Decide(body, offersTool);
        Requests.Enqueue(new Recorded("/v1/messages", Headers(http), body.Clone(), turn.ToString()));
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var model = body.TryGetProperty("model", out var m) ? m.GetString() : "claude";
        var id = "msg_scripted" + Guid.NewGuid().ToString("N")[..12];
        var text = turn == Turn.SayToken ? $"The file holds {token}." : "Done.";
        var callId = "toolu_scripted" + Guid.NewGuid().ToString("N")[..12];
        var stop = turn == Turn.CallTool ? "tool_use" : "end_turn";
        JsonNode Usage(int input, int output) => new JsonObject { ["input_tokens"] = input, ["output_tokens"] = output };
        if (!stream)
        {
            var block = turn == Turn.CallTool
                ? new JsonObject { ["type"] = "tool_use", ["id"] = callId, ["name"] = ToolName, ["input"] = JsonNode.Parse(ToolInput) }
                : new JsonObject { ["type"] = "text", ["text"] = text };
            await WriteJsonAsync(http, new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(block),
                ["stop_reason"] = stop, ["stop_sequence"] = null, ["usage"] = Usage(21, 7),
            });
            return;
        }
        http.Response.ContentType = "text/event-stream";
        async Task Event(string type, JsonObject data)
        {
            data["type"] = type;
            await http.Response.WriteAsync($"event: {type}\ndata: {data.ToJsonString()}\n\n");
            await http.Response.Body.FlushAsync();
        }
        JsonObject Delta(JsonObject delta) => new() { ["index"] = 0, ["delta"] = delta };
        await Event("message_start", new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                ["stop_reason"] = null, ["stop_sequence"] = null, ["usage"] = Usage(21, 1),
            },
        });
        if (turn == Turn.CallTool)
        {
            await Event("content_block_start", new JsonObject
            {
                ["index"] = 0,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = callId, ["name"] = ToolName, ["input"] = new JsonObject() },
            });
            foreach (var piece in Pieces(ToolInput))
                await Event("content_block_delta", Delta(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece }));
        }
        else
        {
            var index = 0;
            if (Novelties)
            {
                // What a relay has never heard of: a block type and an event type of its own.
                await Event("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "redacted_thinking", ["data"] = "c2VhbGVk" } });
                await Event("content_block_stop", new JsonObject { ["index"] = 0 });
                await Event("future_event", new JsonObject { ["detail"] = "from next month" });
                index = 1;
            }
            await Event("content_block_start", new JsonObject { ["index"] = index, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
            foreach (var piece in Pieces(text))
                await Event("content_block_delta", new JsonObject { ["index"] = index, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = piece } });
            await Event("content_block_stop", new JsonObject { ["index"] = index });
        }
        if (turn == Turn.CallTool) await Event("content_block_stop", new JsonObject { ["index"] = 0 });
        await Event("message_delta", new JsonObject
        {
            ["delta"] = new JsonObject { ["stop_reason"] = stop, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = 7 },
        });
        await Event("message_stop", new JsonObject());
    }

    // ---- OpenAI chat completions --------------------------------------------------------------------------------

    private async Task ChatAsync(HttpContext http)
    {
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
        var offersTool = body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array
            && tools.EnumerateArray().Any(t => t.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n) && n.GetString() == ToolName);
        var (turn, token) = Decide(body, offersTool);
        Requests.Enqueue(new Recorded("/v1/chat/completions", Headers(http), body.Clone(), turn.ToString()));
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var model = body.TryGetProperty("model", out var m) ? m.GetString() : "gpt";
        var id = "chatcmpl-scripted" + Guid.NewGuid().ToString("N")[..12];
        var text = turn == Turn.SayToken ? $"The file holds {token}." : "Done.";
        var callId = "call_scripted" + Guid.NewGuid().ToString("N")[..12];
        var finish = turn == Turn.CallTool ? "tool_calls" : "stop";
        JsonNode Usage() => new JsonObject { ["prompt_tokens"] = 21, ["completion_tokens"] = 7, ["total_tokens"] = 28 };
        JsonObject Call(string arguments) => new() { ["id"] = callId, ["type"] = "function", ["function"] = new JsonObject { ["name"] = ToolName, ["arguments"] = arguments } };
        // A streamed call's pieces: the first names it, the rest add to its arguments.
        JsonObject Piece(string arguments, bool first) => first
            ? new JsonObject { ["index"] = 0, ["id"] = callId, ["type"] = "function", ["function"] = new JsonObject { ["name"] = ToolName, ["arguments"] = arguments } }
            : new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = arguments } };
        if (!stream)
        {
            var message = turn == Turn.CallTool
                ? new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(Call(ToolInput)) }
                : new JsonObject { ["role"] = "assistant", ["content"] = text };
            await WriteJsonAsync(http, new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = 1, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
                ["usage"] = Usage(),
            });
            return;
        }
        http.Response.ContentType = "text/event-stream";
        async Task Chunk(JsonObject? delta, string? finishReason = null, bool withUsage = false)
        {
            var chunk = new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model,
                ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
            };
            if (withUsage) chunk["usage"] = Usage();
            await http.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n");
            await http.Response.Body.FlushAsync();
        }
        await Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" });
        if (turn == Turn.CallTool)
        {
            var first = true;
            foreach (var piece in Pieces(ToolInput))
            {
                await Chunk(new JsonObject { ["tool_calls"] = new JsonArray(Piece(piece, first)) });
                first = false;
            }
        }
        else
        {
            foreach (var piece in Pieces(text)) await Chunk(new JsonObject { ["content"] = piece });
        }
        await Chunk(new JsonObject(), finish);
        if (body.TryGetProperty("stream_options", out var options) && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True)
            await Chunk(null, withUsage: true);
        await http.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static async Task WriteJsonAsync(HttpContext http, JsonObject body)
    {
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    // ---- Gemini generateContent ---------------------------------------------------------------------------------

    private async Task GeminiAsync(HttpContext http, string call)
    {
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
        var offersTool = body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array
            && tools.EnumerateArray().Any(t => t.TryGetProperty("functionDeclarations", out var d) && d.EnumerateArray().Any(f => f.GetProperty("name").GetString() == ToolName));
        var results = body.TryGetProperty("contents", out var contents)
            ? contents.EnumerateArray().SelectMany(c => c.TryGetProperty("parts", out var parts) ? parts.EnumerateArray() : [])
                .Where(p => p.TryGetProperty("functionResponse", out _)).Select(p => p.GetProperty("functionResponse").GetRawText()).ToList()
            : [];
        var turn = results.Count > 0 ? Turn.SayToken : offersTool ? Turn.CallTool : Turn.Chat;
        var found = results.Count > 0 ? TokenPattern().Match(results[^1]) : null;
        Requests.Enqueue(new Recorded("/v1/models/" + call, Headers(http), body.Clone(), turn.ToString()));
        var text = turn == Turn.SayToken ? $"The file holds {(found!.Success ? found.Value : "no token")}." : "Done.";
        var part = turn == Turn.CallTool
            ? new JsonObject { ["functionCall"] = new JsonObject { ["name"] = ToolName, ["args"] = JsonNode.Parse(ToolInput) } }
            : new JsonObject { ["text"] = text };
        var response = new JsonObject
        {
            ["candidates"] = new JsonArray(new JsonObject { ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(part) }, ["finishReason"] = "STOP", ["index"] = 0 }),
            ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 21, ["candidatesTokenCount"] = 7, ["totalTokenCount"] = 28 },
            ["modelVersion"] = call.Split(':')[0],
        };
        if (!call.EndsWith(":streamGenerateContent", StringComparison.Ordinal))
        {
            await WriteJsonAsync(http, response);
            return;
        }
        http.Response.ContentType = "text/event-stream";
        await http.Response.WriteAsync($"data: {response.ToJsonString()}\r\n\r\n");
    }

    // ---- shared -------------------------------------------------------------------------------------------------

    /// <summary>The text of every tool result in the request, in order, whichever dialect carries it.</summary>
    private static IEnumerable<string> ToolResults(JsonElement body)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array) yield break;
        foreach (var message in messages.EnumerateArray())
        {
            var role = message.TryGetProperty("role", out var r) ? r.GetString() : null;
            if (!message.TryGetProperty("content", out var content)) continue;
            if (role == "tool") yield return Text(content);
            else if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var block in content.EnumerateArray())
                {
                    if (block.TryGetProperty("type", out var type) && type.GetString() == "tool_result" && block.TryGetProperty("content", out var result))
                        yield return Text(result);
                }
            }
        }
    }

    private static string Text(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString() ?? "",
        JsonValueKind.Array => string.Join("\n", content.EnumerateArray().Select(part => part.TryGetProperty("text", out var t) ? t.GetString() : "")),
        _ => content.GetRawText(),
    };

    private static IEnumerable<string> Pieces(string text)
    {
        var half = text.Length / 2;
        yield return text[..half];
        yield return text[half..];
    }

    private static Dictionary<string, string> Headers(HttpContext http) =>
        http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());

    [GeneratedRegex("TOKEN-[0-9a-f]{16}")]
    private static partial Regex TokenPattern();
}
