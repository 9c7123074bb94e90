using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.Fakes;

/// <summary>
/// An Anthropic Messages API on Kestrel at 127.0.0.1 that checks requests the way the real one does (key, version
/// header, required and unknown fields, alternating roles, block rules) and answers with recorded streams chosen by
/// the <c>model</c> it is sent. It records what reached it.
/// <list type="bullet">
/// <item><c>claude-text</c>, <c>claude-tools</c>, <c>claude-thinking</c>: the recordings (or their whole-message form).</item>
/// <item><c>claude-529</c>: 529 <c>overloaded_error</c>, always.</item>
/// <item><c>claude-overloaded-once</c>: an in-stream <c>overloaded_error</c> before content on a request's first call
/// (counted per <c>metadata.user_id</c>), the text recording after.</item>
/// <item><c>claude-auto</c>: the tools recording when the request offers tools, the text recording otherwise.</item>
/// <item><c>claude-cut</c>: the text recording cut after its first delta (no <c>message_stop</c>), streamed.</item>
/// <item><c>claude-prefill</c>: a request ending in an assistant prefill that the text answer starts with gets the
/// rest of that answer (as the API continues a prefill); any other request the text recording.</item>
/// </list>
/// </summary>
public sealed class FakeAnthropic : IAsyncDisposable
{
    public const string ApiKey = "sk-ant-fake-key";

    private static readonly HashSet<string> TopLevelFields =
    [
        "model", "messages", "max_tokens", "system", "stream", "stop_sequences", "temperature", "top_p", "top_k",
        "tools", "tool_choice", "metadata", "thinking", "service_tier", "container", "mcp_servers", "context_management",
    ];

    private static readonly HashSet<string> BlockTypes =
        ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "search_result"];

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<(string?, string?), int> _calls = new();

    private FakeAnthropic(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The API root, as a provider's <c>base-url</c> names it (<c>.../v1</c>).</summary>
    public Uri BaseUrl { get; }

    public sealed record Recorded(string? ApiKey, string? Version, JsonElement Body);

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public int Calls(string model, string? user = null) => _calls.GetValueOrDefault((model, user));

    public static async Task<FakeAnthropic> StartAsync()
    {
        FakeAnthropic? fake = null;
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapPost("/v1/messages", http => fake!.MessagesAsync(http));
            app.MapGet("/v1/models", http => fake!.ModelsAsync(http));
        });
        fake = new FakeAnthropic(app, new Uri(url.ToString().TrimEnd('/') + "/v1"));
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ModelsAsync(HttpContext http)
    {
        if (await RefusedHeadersAsync(http)) return;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("""{"data":[{"type":"model","id":"claude-test-1","display_name":"Claude Test","created_at":"2025-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-test-1","last_id":"claude-test-1"}""");
    }

    private async Task MessagesAsync(HttpContext http)
    {
        if (await RefusedHeadersAsync(http)) return;
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
        }
        catch (JsonException)
        {
            await ErrorAsync(http, 400, "invalid_request_error", "There was an issue with your request: the body is not valid JSON");
            return;
        }
        Requests.Enqueue(new Recorded(http.Request.Headers["x-api-key"], http.Request.Headers["anthropic-version"], body));
        if (Validate(body) is { } problem)
        {
            await ErrorAsync(http, 400, "invalid_request_error", problem);
            return;
        }
        var model = body.GetProperty("model").GetString()!;
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var user = body.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("user_id", out var id) ? id.GetString() : null;
        var call = _calls.AddOrUpdate((model, user), 1, (_, n) => n + 1);
        _calls.AddOrUpdate((model, null), 1, (_, n) => n + 1);

        switch (model)
        {
            case "claude-529":
                await ErrorAsync(http, 529, "overloaded_error", "Overloaded");
                return;
            case "claude-overloaded-once" when call == 1 && stream:
                await StreamAsync(http, AnthropicRecordings.OverloadedBeforeContent);
                return;
            case "claude-auto":
                var offersTools = body.TryGetProperty("tools", out var tools) && tools.GetArrayLength() > 0;
                await AnswerAsync(http, stream, offersTools ? AnthropicRecordings.Tools : AnthropicRecordings.Text,
                    offersTools ? AnthropicRecordings.ToolsMessage : AnthropicRecordings.TextMessage);
                return;
            case "claude-cut" when stream:
                await StreamAsync(http, AnthropicRecordings.TextCutAfterFirstDelta);
                return;
            case "claude-prefill" when stream && Prefill(body) is { } prefill && AnthropicRecordings.TextAnswer.StartsWith(prefill, StringComparison.Ordinal):
                await StreamAsync(http, AnthropicRecordings.TextContinuing(AnthropicRecordings.TextAnswer[prefill.Length..]));
                return;
            case "claude-tools":
                await AnswerAsync(http, stream, AnthropicRecordings.Tools, AnthropicRecordings.ToolsMessage);
                return;
            case "claude-thinking":
                await AnswerAsync(http, stream, AnthropicRecordings.Thinking, AnthropicRecordings.ThinkingMessage);
                return;
            default:
                await AnswerAsync(http, stream, AnthropicRecordings.Text, AnthropicRecordings.TextMessage);
                return;
        }
    }

    /// <summary>The text of a trailing assistant message (a prefill), or null.</summary>
    private static string? Prefill(JsonElement body)
    {
        var messages = body.GetProperty("messages");
        var last = messages[messages.GetArrayLength() - 1];
        if (last.GetProperty("role").GetString() != "assistant") return null;
        var content = last.GetProperty("content");
        if (content.ValueKind == JsonValueKind.String) return content.GetString();
        return string.Concat(content.EnumerateArray().Where(b => b.GetProperty("type").GetString() == "text").Select(b => b.GetProperty("text").GetString()));
    }

    private static Task AnswerAsync(HttpContext http, bool stream, string events, string message)
    {
        if (stream) return StreamAsync(http, events);
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(message);
    }

    /// <summary>The recording's bytes, one write and flush per event, as the API sends them.</summary>
    private static async Task StreamAsync(HttpContext http, string recording)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        foreach (var sseEvent in recording.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(sseEvent + "\n\n"));
            await http.Response.Body.FlushAsync();
        }
    }

    /// <summary>The API's header checks: the key first (401), then the version header (400).</summary>
    private static async Task<bool> RefusedHeadersAsync(HttpContext http)
    {
        if (http.Request.Headers["x-api-key"] != ApiKey)
        {
            await ErrorAsync(http, 401, "authentication_error", "invalid x-api-key");
            return true;
        }
        if (string.IsNullOrEmpty(http.Request.Headers["anthropic-version"]))
        {
            await ErrorAsync(http, 400, "invalid_request_error", "anthropic-version: header is required");
            return true;
        }
        return false;
    }

    private static Task ErrorAsync(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new { type = "error", error = new { type, message } }));
    }

    /// <summary>What the real API would refuse in a Messages body, in its words; null when it would accept it.</summary>
    public static string? Validate(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return "body: Input should be an object";
        foreach (var property in body.EnumerateObject())
        {
            if (!TopLevelFields.Contains(property.Name)) return $"{property.Name}: Extra inputs are not permitted";
        }
        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String) return "model: Field required";
        if (!body.TryGetProperty("max_tokens", out var maxTokens)) return "max_tokens: Field required";
        if (maxTokens.ValueKind != JsonValueKind.Number || !maxTokens.TryGetInt32(out var max) || max < 1) return "max_tokens: Input should be a valid integer greater than 0";
        if (body.TryGetProperty("temperature", out var temperature) && (temperature.GetDouble() < 0 || temperature.GetDouble() > 1))
            return "temperature: Input should be less than or equal to 1";
        if (body.TryGetProperty("system", out var system) && system.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            return "system: Input should be a valid string or list";
        var hasTools = body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        if (hasTools)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("name", out _)) return "tools.0.name: Field required";
                if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object) return "tools.0.input_schema: Field required";
                foreach (var field in tool.EnumerateObject())
                {
                    if (field.Name is not ("name" or "description" or "input_schema" or "cache_control" or "type")) return $"tools.0.{field.Name}: Extra inputs are not permitted";
                }
            }
        }
        if (body.TryGetProperty("tool_choice", out var toolChoice))
        {
            if (!hasTools) return "tool_choice may only be specified while providing tools";
            if (toolChoice.GetProperty("type").GetString() is not ("auto" or "any" or "tool" or "none")) return "tool_choice.type: Input tag does not match";
        }
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array) return "messages: Field required";
        if (messages.GetArrayLength() == 0) return "messages: at least one message is required";
        string? previous = null;
        var count = messages.GetArrayLength();
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var role = message.TryGetProperty("role", out var r) ? r.GetString() : null;
            if (role is not ("user" or "assistant")) return $"messages.{i}.role: Input should be 'user' or 'assistant'";
            if (i == 0 && role != "user") return "messages: first message must use the \"user\" role";
            if (role == previous) return "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"" + role + "\" roles in a row";
            if (Content(message, role, i, last: i == count - 1) is { } problem) return problem;
            previous = role;
            i++;
        }
        return null;
    }

    private static string? Content(JsonElement message, string role, int i, bool last)
    {
        if (!message.TryGetProperty("content", out var content)) return $"messages.{i}.content: Field required";
        if (content.ValueKind == JsonValueKind.String)
        {
            if (content.GetString()!.Length == 0 && !(last && role == "assistant")) return $"messages.{i}: all messages must have non-empty content except for the optional final assistant message";
            if (last && role == "assistant" && content.GetString()!.TrimEnd().Length != content.GetString()!.Length) return "messages: final assistant content cannot end with trailing whitespace";
            return null;
        }
        if (content.ValueKind != JsonValueKind.Array) return $"messages.{i}.content: Input should be a valid list";
        if (content.GetArrayLength() == 0 && !(last && role == "assistant")) return $"messages.{i}: all messages must have non-empty content except for the optional final assistant message";
        var seenOther = false;
        var j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var type = block.TryGetProperty("type", out var t) ? t.GetString() : null;
            var at = $"messages.{i}.content.{j}";
            if (type is null || !BlockTypes.Contains(type)) return $"{at}.type: Input tag '{type}' found using 'type' does not match any of the expected tags";
            switch (type)
            {
                case "text":
                    if (!block.TryGetProperty("text", out var text) || text.GetString()!.Length == 0) return $"{at}: text content blocks must be non-empty";
                    if (last && role == "assistant" && j == content.GetArrayLength() - 1 && text.GetString()!.TrimEnd().Length != text.GetString()!.Length)
                        return "messages: final assistant content cannot end with trailing whitespace";
                    break;
                case "tool_use":
                    if (role != "assistant") return $"{at}: tool_use blocks can only be in assistant messages";
                    if (!block.TryGetProperty("id", out _) || !block.TryGetProperty("name", out _)) return $"{at}: id and name are required";
                    if (!block.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object) return $"{at}.input: Input should be a valid dictionary";
                    break;
                case "tool_result":
                    if (role != "user") return $"{at}: tool_result blocks can only be in user messages";
                    if (seenOther) return $"{at}: tool_result blocks must come first in the user message content";
                    if (!block.TryGetProperty("tool_use_id", out _)) return $"{at}.tool_use_id: Field required";
                    break;
                case "thinking":
                    if (role != "assistant") return $"{at}: thinking blocks can only be in assistant messages";
                    if (!block.TryGetProperty("signature", out var signature) || signature.GetString()!.Length == 0) return $"{at}.signature: Field required";
                    break;
                case "image":
                    var source = block.GetProperty("source");
                    if (source.GetProperty("type").GetString() == "base64" && (!source.TryGetProperty("media_type", out _) || !source.TryGetProperty("data", out _)))
                        return $"{at}.source: media_type and data are required";
                    break;
            }
            if (type != "tool_result") seenOther = true;
            j++;
        }
        return null;
    }
}
