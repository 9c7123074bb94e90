using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.Fakes;

/// <summary>
/// A Gemini API (<c>/v1beta</c>) on Kestrel at 127.0.0.1 that checks requests the way the real one does (the key in
/// <c>x-goog-api-key</c>, <c>alt=sse</c> for streaming, unknown fields refused at every level, <c>user</c>/<c>model</c>
/// roles, one data field per part, Gemini's schema subset) and answers with recorded responses chosen by the model
/// in the path. It records what reached it.
/// <list type="bullet">
/// <item><c>gemini-text</c> (and any other name), <c>gemini-tools</c>, <c>gemini-thinking</c>, <c>gemini-safety</c>,
/// <c>gemini-blocked</c>: the recordings, streamed or whole.</item>
/// <item><c>gemini-auto</c>: the tools recording when the request offers tools, the text recording otherwise.</item>
/// <item><c>gemini-429</c>: 429 <c>RESOURCE_EXHAUSTED</c> with a <c>RetryInfo</c> of 37s, always.</item>
/// <item><c>gemini-503</c>: 503 <c>UNAVAILABLE</c>, always.</item>
/// </list>
/// </summary>
public sealed class FakeGemini : IAsyncDisposable
{
    public const string ApiKey = "AIzaFakeGeminiKey0123456789";

    private static readonly HashSet<string> TopLevelFields =
        ["contents", "tools", "toolConfig", "safetySettings", "systemInstruction", "generationConfig", "cachedContent", "labels"];

    private static readonly HashSet<string> GenerationFields =
    [
        "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities", "candidateCount",
        "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs",
        "logprobs", "enableEnhancedCivicAnswers", "speechConfig", "thinkingConfig", "imageConfig", "mediaResolution",
    ];

    private static readonly HashSet<string> PartData =
        ["text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult"];

    private static readonly HashSet<string> SchemaFields =
    [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required",
        "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering",
        "default", "items", "minimum", "maximum",
    ];

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();

    private FakeGemini(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The API root, as a provider's <c>base-url</c> names it (<c>.../v1beta</c>).</summary>
    public Uri BaseUrl { get; }

    public sealed record Recorded(string Path, string Query, string? ApiKey, JsonElement Body);

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public int Calls(string model) => _calls.GetValueOrDefault(model);

    public static async Task<FakeGemini> StartAsync()
    {
        FakeGemini? fake = null;
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapPost("/v1beta/models/{*call}", (HttpContext http, string call) => fake!.GenerateAsync(http, call));
            app.MapGet("/v1beta/models", http => fake!.ModelsAsync(http));
        });
        fake = new FakeGemini(app, new Uri(url.ToString().TrimEnd('/') + "/v1beta"));
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ModelsAsync(HttpContext http)
    {
        if (await RefusedKeyAsync(http)) return;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("""{"models": [{"name": "models/gemini-2.5-flash","displayName": "Gemini 2.5 Flash","supportedGenerationMethods": ["generateContent","countTokens"]}]}""");
    }

    private async Task GenerateAsync(HttpContext http, string call)
    {
        if (await RefusedKeyAsync(http)) return;
        var colon = call.LastIndexOf(':');
        var (model, method) = colon < 0 ? (call, "") : (call[..colon], call[(colon + 1)..]);
        if (method is not ("generateContent" or "streamGenerateContent"))
        {
            await ErrorAsync(http, 404, "NOT_FOUND", $"The requested URL /v1beta/models/{call} was not found on this server.");
            return;
        }
        var stream = method == "streamGenerateContent";
        // Without alt=sse the stream is one JSON array written piece by piece: a relay reading SSE must ask for SSE.
        if (stream && http.Request.Query["alt"] != "sse")
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "this fake streams only with alt=sse");
            return;
        }
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body);
        }
        catch (JsonException)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
            return;
        }
        Requests.Enqueue(new Recorded(http.Request.Path, http.Request.QueryString.Value ?? "", http.Request.Headers["x-goog-api-key"], body));
        _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        if (Validate(body) is { } problem)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", problem);
            return;
        }
        switch (model)
        {
            case "gemini-429":
                http.Response.StatusCode = 429;
                http.Response.ContentType = "application/json; charset=UTF-8";
                await http.Response.WriteAsync("""
                    {
                      "error": {
                        "code": 429,
                        "message": "You exceeded your current quota, please check your plan and billing details.",
                        "status": "RESOURCE_EXHAUSTED",
                        "details": [
                          {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                          {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
                        ]
                      }
                    }
                    """);
                return;
            case "gemini-503":
                await ErrorAsync(http, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
                return;
            case "gemini-auto":
                var offersTools = body.TryGetProperty("tools", out var offered) && offered.GetArrayLength() > 0;
                await AnswerAsync(http, stream, offersTools ? GeminiRecordings.Tools : GeminiRecordings.Text,
                    offersTools ? GeminiRecordings.ToolsWhole : GeminiRecordings.TextWhole);
                return;
            case "gemini-tools":
                await AnswerAsync(http, stream, GeminiRecordings.Tools, GeminiRecordings.ToolsWhole);
                return;
            case "gemini-thinking":
                await AnswerAsync(http, stream, GeminiRecordings.Thinking, GeminiRecordings.ThinkingWhole);
                return;
            case "gemini-safety":
                await AnswerAsync(http, stream, GeminiRecordings.Safety, GeminiRecordings.SafetyWhole);
                return;
            case "gemini-blocked":
                await AnswerAsync(http, stream, GeminiRecordings.PromptBlocked, GeminiRecordings.PromptBlockedWhole);
                return;
            default:
                await AnswerAsync(http, stream, GeminiRecordings.Text, GeminiRecordings.TextWhole);
                return;
        }
    }

    private static async Task AnswerAsync(HttpContext http, bool stream, string[] responses, string whole)
    {
        if (!stream)
        {
            http.Response.ContentType = "application/json; charset=UTF-8";
            await http.Response.WriteAsync(whole);
            return;
        }
        // One write and flush per response, as the API sends them; the stream just ends after the last.
        http.Response.ContentType = "text/event-stream";
        foreach (var response in responses)
        {
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(GeminiRecordings.Wire([response])));
            await http.Response.Body.FlushAsync();
        }
    }

    /// <summary>The real API: no key is 403 PERMISSION_DENIED, a wrong one 400 API_KEY_INVALID; a key in the URL is refused here (URLs get logged).</summary>
    private static async Task<bool> RefusedKeyAsync(HttpContext http)
    {
        if (http.Request.Query.ContainsKey("key"))
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "this fake refuses a key in the URL");
            return true;
        }
        var key = http.Request.Headers["x-goog-api-key"].ToString();
        if (key.Length == 0)
        {
            await ErrorAsync(http, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
            return true;
        }
        if (key != ApiKey)
        {
            http.Response.StatusCode = 400;
            http.Response.ContentType = "application/json; charset=UTF-8";
            await http.Response.WriteAsync("""{"error": {"code": 400,"message": "API key not valid. Please pass a valid API key.","status": "INVALID_ARGUMENT","details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo","reason": "API_KEY_INVALID","domain": "googleapis.com","metadata": {"service": "generativelanguage.googleapis.com"}}]}}""");
            return true;
        }
        return false;
    }

    private static Task ErrorAsync(HttpContext http, int code, string status, string message)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json; charset=UTF-8";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { code, message, status } }));
    }

    /// <summary>What the real API would refuse in a generateContent body, in its words; null when it would accept it.</summary>
    public static string? Validate(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return "Invalid JSON payload received. Expected an object.";
        if (Unknown(body, TopLevelFields, "") is { } unknown) return unknown;
        if (!body.TryGetProperty("contents", out var contents) || contents.ValueKind != JsonValueKind.Array || contents.GetArrayLength() == 0)
            return "* GenerateContentRequest.contents: contents is not specified";
        var i = 0;
        foreach (var content in contents.EnumerateArray())
        {
            if (Unknown(content, ["role", "parts"], $"contents[{i}].") is { } bad) return bad;
            var role = content.TryGetProperty("role", out var r) ? r.GetString() : null;
            if (role is not ("user" or "model")) return $"Please use a valid role: user, model. (contents[{i}].role = {role})";
            if (Parts(content, $"contents[{i}]", role) is { } problem) return problem;
            i++;
        }
        if (body.TryGetProperty("systemInstruction", out var system))
        {
            if (Unknown(system, ["role", "parts"], "system_instruction.") is { } bad) return bad;
            if (Parts(system, "system_instruction", "user") is { } problem) return problem;
        }
        if (body.TryGetProperty("generationConfig", out var config))
        {
            if (Unknown(config, GenerationFields, "generation_config.") is { } bad) return bad;
            if (config.TryGetProperty("responseSchema", out var schema) && Schema(schema, "generation_config.response_schema") is { } problem) return problem;
            if (config.TryGetProperty("thinkingConfig", out var thinking) && Unknown(thinking, ["includeThoughts", "thinkingBudget", "thinkingLevel"], "generation_config.thinking_config.") is { } badThinking)
                return badThinking;
        }
        var names = new HashSet<string>();
        if (body.TryGetProperty("tools", out var tools))
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (Unknown(tool, ["functionDeclarations", "googleSearch", "codeExecution", "urlContext"], "tools[0].") is { } bad) return bad;
                if (!tool.TryGetProperty("functionDeclarations", out var declarations)) continue;
                foreach (var declaration in declarations.EnumerateArray())
                {
                    if (Unknown(declaration, ["name", "description", "parameters", "parametersJsonSchema", "response", "behavior"], "tools[0].function_declarations[0].") is { } badDeclaration)
                        return badDeclaration;
                    if (!declaration.TryGetProperty("name", out var name) || name.GetString() is not { Length: > 0 } n)
                        return "* GenerateContentRequest.tools[0].function_declarations[0].name: Name cannot be empty.";
                    names.Add(n);
                    if (declaration.TryGetProperty("parameters", out var parameters) && Schema(parameters, $"tools[0].function_declarations[{n}].parameters") is { } problem) return problem;
                }
            }
        }
        if (body.TryGetProperty("toolConfig", out var toolConfig))
        {
            var calling = toolConfig.GetProperty("functionCallingConfig");
            if (Unknown(calling, ["mode", "allowedFunctionNames"], "tool_config.function_calling_config.") is { } bad) return bad;
            var mode = calling.GetProperty("mode").GetString();
            if (mode is not ("AUTO" or "ANY" or "NONE" or "VALIDATED")) return $"Invalid value at 'tool_config.function_calling_config.mode' ({mode})";
            if (calling.TryGetProperty("allowedFunctionNames", out var allowed))
            {
                if (mode != "ANY") return "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names should be set only when mode is ANY.";
                foreach (var name in allowed.EnumerateArray())
                {
                    if (!names.Contains(name.GetString()!)) return $"* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: {name.GetString()} is not a declared function.";
                }
            }
        }
        return null;
    }

    private static string? Parts(JsonElement content, string at, string role)
    {
        if (!content.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array || parts.GetArrayLength() == 0)
            return $"* GenerateContentRequest.{at}.parts: contents.parts must not be empty.";
        var j = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var where = $"{at}.parts[{j++}]";
            if (Unknown(part, [.. PartData, "thought", "thoughtSignature", "videoMetadata"], where + ".") is { } bad) return bad;
            var data = part.EnumerateObject().Where(p => PartData.Contains(p.Name)).ToList();
            if (data.Count != 1) return $"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one initialized field";
            var field = data[0];
            switch (field.Name)
            {
                case "text" when field.Value.ValueKind != JsonValueKind.String:
                    return $"Invalid value at '{where}.text', expected a string";
                case "functionCall":
                    if (role != "model") return $"* GenerateContentRequest.{where}.function_call: function calls come from the model";
                    if (Unknown(field.Value, ["id", "name", "args"], where + ".function_call.") is { } badCall) return badCall;
                    if (!field.Value.TryGetProperty("name", out _)) return $"* GenerateContentRequest.{where}.function_call.name: Name cannot be empty.";
                    if (field.Value.TryGetProperty("args", out var args) && args.ValueKind != JsonValueKind.Object) return $"Invalid value at '{where}.function_call.args', expected a Struct";
                    break;
                case "functionResponse":
                    if (role != "user") return $"* GenerateContentRequest.{where}.function_response: function responses come from the user";
                    if (Unknown(field.Value, ["id", "name", "response"], where + ".function_response.") is { } badResponse) return badResponse;
                    if (!field.Value.TryGetProperty("name", out _)) return $"* GenerateContentRequest.{where}.function_response.name: Name cannot be empty.";
                    if (!field.Value.TryGetProperty("response", out var response) || response.ValueKind != JsonValueKind.Object)
                        return $"Invalid value at '{where}.function_response.response', expected a Struct";
                    break;
                case "inlineData":
                    if (!field.Value.TryGetProperty("mimeType", out _) || !field.Value.TryGetProperty("data", out _)) return $"* GenerateContentRequest.{where}.inline_data: mimeType and data are required";
                    break;
                case "fileData":
                    if (!field.Value.TryGetProperty("fileUri", out _)) return $"* GenerateContentRequest.{where}.file_data.file_uri: fileUri is required";
                    break;
            }
        }
        return null;
    }

    private static string? Schema(JsonElement schema, string at)
    {
        if (schema.ValueKind != JsonValueKind.Object) return $"Invalid value at '{at}', expected an object";
        if (Unknown(schema, SchemaFields, at + ".") is { } bad) return bad;
        if (schema.TryGetProperty("type", out var type) && type.ValueKind != JsonValueKind.String) return $"Invalid value at '{at}.type'";
        var isObject = type.ValueKind == JsonValueKind.String && type.GetString()!.Equals("object", StringComparison.OrdinalIgnoreCase);
        if (isObject && (!schema.TryGetProperty("properties", out var p) || !p.EnumerateObject().Any()))
            return $"* GenerateContentRequest.{at}.properties: should be non-empty for OBJECT type";
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (Schema(property.Value, $"{at}.properties[{property.Name}]") is { } problem) return problem;
            }
        }
        if (schema.TryGetProperty("items", out var items) && Schema(items, at + ".items") is { } itemsProblem) return itemsProblem;
        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            foreach (var option in anyOf.EnumerateArray())
            {
                if (Schema(option, at + ".any_of") is { } problem) return problem;
            }
        }
        return null;
    }

    /// <summary>Google's words for a field the proto does not have.</summary>
    private static string? Unknown(JsonElement obj, IReadOnlySet<string> known, string at)
    {
        if (obj.ValueKind != JsonValueKind.Object) return $"Invalid JSON payload received. Expected an object at '{at.TrimEnd('.')}'.";
        foreach (var property in obj.EnumerateObject())
        {
            if (!known.Contains(property.Name)) return $"Invalid JSON payload received. Unknown name \"{property.Name}\" at '{at.TrimEnd('.')}': Cannot find field.";
        }
        return null;
    }

    private static string? Unknown(JsonElement obj, string[] known, string at) => Unknown(obj, known.ToHashSet(), at);
}
