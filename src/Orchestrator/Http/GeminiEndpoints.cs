using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Akka.Hosting;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Fronts.Gemini;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The Gemini front (Gemini CLI with <c>GOOGLE_GEMINI_BASE_URL</c>, the google-genai SDKs), answered by any route:
/// <code>
///   POST /v1beta/models/{model}:generateContent                a whole answer
///   POST /v1beta/models/{model}:streamGenerateContent?alt=sse  SSE, data: {GenerateContentResponse}
///   POST /v1beta/models/{model}:streamGenerateContent          the same responses as one streamed JSON array
///   POST /v1beta/models/{model}:countTokens                    {"totalTokens": N}, estimated
///   GET  /v1beta/models, /v1beta/models/{model}                Google's model list shape
/// </code>
/// (also under <c>/v1/</c>). The request is translated into the engine's chat request at the edge
/// (<see cref="GeminiRequestReader"/>); a gemini-kind upstream gets the caller's body as written instead. The answer
/// is written back through <see cref="GeminiEncoder"/> (streams) or <see cref="GeminiFrontCompletion"/> (whole
/// answers). Errors are Google-shaped (<see cref="GeminiHttpErrors"/>).
/// </summary>
public static class GeminiEndpoints
{
    public static IEndpointRouteBuilder MapGeminiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        foreach (var version in (string[])["v1beta", "v1"])
        {
            // Model ids hold dots and the method follows a colon (gemini-3.5-flash-lite:generateContent): the rest of
            // the path is read as one piece and split at its last colon.
            endpoints.MapPost($"/{version}/models/{{**target}}", CallAsync).AddEndpointFilter<GeminiKeyFilter>();
        }
        // GET /v1/models is OpenAI's list: only the v1beta spelling lists models Google's way.
        endpoints.MapGet("/v1beta/models", ListAsync).AddEndpointFilter<GeminiKeyFilter>();
        endpoints.MapGet("/v1beta/models/{**id}", GetAsync).AddEndpointFilter<GeminiKeyFilter>();
        return endpoints;
    }

    private static readonly string[] Methods = ["generateContent", "streamGenerateContent", "countTokens"];

    private static async Task CallAsync(string target, HttpContext http, IRequiredActor<HttpFrontActor> front, EdgeStreams edge,
        OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var colon = target.LastIndexOf(':');
        var model = colon > 0 ? ModelId(target[..colon]) : "";
        var method = colon > 0 ? target[(colon + 1)..] : "";
        switch (method)
        {
            case "generateContent":
                await GenerateAsync(http, model, stream: false, sse: false, front, edge);
                break;
            case "streamGenerateContent":
                await GenerateAsync(http, model, stream: true, sse: http.Request.Query["alt"] == "sse", front, edge);
                break;
            case "countTokens":
                await CountTokensAsync(http, model, settings, ledger);
                break;
            default:
                await GeminiHttpErrors.WriteAsync(http.Response, GeminiFrontErrors.NotFound(
                    $"Unknown method in 'models/{ApiError.Quote(target)}': expected models/{{model}}:{string.Join(", :", Methods)}."));
                break;
        }
    }

    private static async Task GenerateAsync(HttpContext http, string model, bool stream, bool sse, IRequiredActor<HttpFrontActor> front, EdgeStreams edge)
    {
        var parsed = await ChatRequestReader.ReadAsync(http.Request, GeminiRequestReader.Parser(model, stream), http.RequestAborted);
        if (parsed.Error is { } invalid)
        {
            await GeminiHttpErrors.WriteAsync(http.Response, invalid);
            return;
        }

        var request = parsed.Request!;
        var requestId = http.TraceIdentifier;
        var estimate = TokenEstimate.Input(request.Body);
        var encoder = stream ? new GeminiEncoder(model, sse, estimate) : null;
        // The JSON-array stream is application/json; the edge prepares every stream as SSE, so it is set as it starts.
        if (stream && !sse) http.Response.OnStarting(() =>
        {
            if (http.Response.StatusCode == StatusCodes.Status200OK) http.Response.ContentType = "application/json; charset=UTF-8";
            return Task.CompletedTask;
        });
        var command = new CreateChat(requestId, request, ClientKeyFilter.Caller(http)) { KeyId = ClientKeyFilter.KeyId(http) };
        var reply = await edge.AskAsync(http, front.ActorRef, command, encoder, GeminiHttpErrors.WriteAsync);
        await (reply switch
        {
            null => Task.CompletedTask,
            ChatRejected r => EdgeStreams.WriteFailureAsync(http, r.Error, encoder, GeminiHttpErrors.WriteAsync),
            // A Gemini upstream's own responses reach an SSE client as they came (the JSON-array form needs our framing).
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Answer, encoder ?? new GeminiEncoder(model, sse, estimate), GeminiHttpErrors.WriteAsync, estimate, writesNative: sse),
            ChatCompleted { Native: { } response } when !stream => EdgeStreams.WriteCompletionAsync(http, response),
            ChatCompleted c => WriteWholeAsync(http, GeminiFrontCompletion.Translate(c.Body, model, estimate), stream, sse),
            _ => throw new UnreachableException(),
        });
    }

    /// <summary>A whole answer; to a client that asked for a stream, as a stream of that one response.</summary>
    private static async Task WriteWholeAsync(HttpContext http, byte[] response, bool stream, bool sse)
    {
        if (!stream)
        {
            await EdgeStreams.WriteCompletionAsync(http, response);
            return;
        }
        if (sse) EdgeStreams.PrepareSse(http);
        else http.Response.ContentType = "application/json; charset=UTF-8";
        var body = http.Response.BodyWriter;
        body.Write(sse ? "data: "u8 : "["u8);
        body.Write(response);
        body.Write(sse ? "\r\n\r\n"u8 : "]"u8);
        await body.FlushAsync(http.RequestAborted);
    }

    /// <summary>
    /// <c>{"totalTokens": N}</c> from the same estimate every front uses (<see cref="TokenEstimate"/>, read from the
    /// request's translation): no upstream is asked, so the answer says it is an estimate in a header.
    /// Takes a bare request or Google's <c>{"generateContentRequest": {...}}</c> wrapper.
    /// </summary>
    private static async Task CountTokensAsync(HttpContext http, string model, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var parsed = await ChatRequestReader.ReadAsync(http.Request, body => ReadCountRequest(body, model), http.RequestAborted);
        if (parsed.Error is { } invalid)
        {
            await GeminiHttpErrors.WriteAsync(http.Response, invalid);
            return;
        }
        // A model outside the key's allow-list does not exist for it, here as on every other endpoint.
        var allowed = await ModelEndpoints.AllowedAsync(http, ledger);
        if (!settings.Resolver.TryResolve(model, out _) || allowed is not null && !allowed.Contains(model))
        {
            await GeminiHttpErrors.WriteAsync(http.Response, NoSuchModel(model, "countTokens"));
            return;
        }
        var tokens = TokenEstimate.Input(parsed.Request!.Body);
        http.Response.Headers["x-orchestrator-estimate"] = "true";
        var json = System.Text.Encoding.UTF8.GetBytes($"{{\"totalTokens\":{tokens}}}");
        await EdgeStreams.WriteCompletionAsync(http, json);
    }

    private static ChatRequestReader.Result ReadCountRequest(ReadOnlySequence<byte> body, string model)
    {
        if (body.IsEmpty) return new(null, GeminiFrontErrors.InvalidArgument("The request body is empty; expected a JSON object with 'contents'."));
        if (!JsonBody.TryParse(body, out var root, out var problem)) return new(null, ApiError.InvalidRequest(problem, null, "invalid_json"));
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("generateContentRequest"u8, out var inner) && inner.ValueKind == JsonValueKind.Object) root = inner;
        var translation = GeminiFrontRequest.Translate(root, model, stream: false);
        if (translation.Error is { } invalid) return new(null, invalid);
        using var document = JsonDocument.Parse(translation.ChatBody!);
        return new(new ChatRequest(model, false, false, null, document.RootElement.Clone()), null);
    }

    private static async Task ListAsync(HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var models = await VisibleAsync(http, settings, ledger);
        var buffer = new ArrayBufferWriter<byte>(256 + 256 * models.Count);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("models"u8);
            foreach (var model in models) WriteModel(model, json);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        await EdgeStreams.WriteCompletionAsync(http, buffer.WrittenMemory);
    }

    private static async Task GetAsync(string id, HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        id = ModelId(id);
        var model = ModelEndpoints.Visible(id, settings, await ModelEndpoints.AllowedAsync(http, ledger));
        if (model is null)
        {
            await GeminiHttpErrors.WriteAsync(http.Response, NoSuchModel(id, null));
            return;
        }
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer)) WriteModel(model, json);
        await EdgeStreams.WriteCompletionAsync(http, buffer.WrittenMemory);
    }

    /// <summary>A ledger key with an allow-list sees only its models, as on <c>/v1/models</c>.</summary>
    private static async Task<List<ModelSettings>> VisibleAsync(HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var allowed = await ModelEndpoints.AllowedAsync(http, ledger);
        // Concrete ids only: configured ones and the catalogue's ids a pattern serves, never a pattern.
        return [.. settings.Resolver.Listed.Where(m => allowed is null || allowed.Contains(m.Id))];
    }

    /// <summary>Google's <c>Model</c>: <c>name</c> is <c>models/ID</c>; the limits are the configured context window where known.</summary>
    private static void WriteModel(ModelSettings model, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("name"u8, "models/" + model.Id);
        json.WriteString("baseModelId"u8, model.Id);
        json.WriteString("version"u8, "001"u8);
        json.WriteString("displayName"u8, model.Id);
        json.WriteString("description"u8, "Served by Orchestrator.");
        if (model.ContextWindow is { } window) json.WriteNumber("inputTokenLimit"u8, window);
        json.WriteNumber("outputTokenLimit"u8, model.MaxTokensDefault);
        json.WriteStartArray("supportedGenerationMethods"u8);
        foreach (var method in Methods) json.WriteStringValue(method);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>An id as the URL has it, without the <c>models/</c> some clients repeat (<c>models/models/x</c> never names another model).</summary>
    private static string ModelId(string id) => id.StartsWith("models/", StringComparison.Ordinal) ? id["models/".Length..] : id;

    // Google's wording: "models/x is not found for API version v1beta, or is not supported for generateContent."
    private static ApiError NoSuchModel(string id, string? method) => GeminiFrontErrors.NotFound(
        $"models/{ApiError.Quote(id)} is not found: the model does not exist or is not configured here{(method is null ? "" : $", so it does not support {method}")}.");
}
