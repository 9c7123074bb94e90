using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Akka.Hosting;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The Anthropic Messages front: <c>POST /v1/messages</c> (Claude Code, the Anthropic SDKs) answered by any route,
/// and <c>POST /v1/messages/count_tokens</c> from an estimate. The request is translated into the engine's chat
/// request at the edge; the answer is written back through <see cref="MessagesEncoder"/> (streams) or
/// <see cref="MessagesCompletion"/> (whole answers). Errors are Anthropic-shaped.
/// </summary>
public static class MessagesEndpoints
{
    public static IEndpointRouteBuilder MapMessagesEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/messages", CreateMessageAsync).AddEndpointFilter<MessagesKeyFilter>();
        endpoints.MapPost("/v1/messages/count_tokens", CountTokensAsync).AddEndpointFilter<MessagesKeyFilter>();
        return endpoints;
    }

    private static async Task CreateMessageAsync(HttpContext http, IRequiredActor<HttpFrontActor> front, EdgeStreams edge)
    {
        var parsed = await ChatRequestReader.ReadAsync(http.Request, MessagesRequestReader.Parse, http.RequestAborted);
        if (parsed.Error is { } invalid)
        {
            await MessagesHttpErrors.WriteAsync(http.Response, invalid);
            return;
        }

        var request = parsed.Request!;
        request = request with { Native = request.Native! with { Headers = DialectHeaders(http.Request) } };
        var requestId = http.TraceIdentifier;
        http.Response.Headers["request-id"] = requestId;   // where Anthropic's SDKs look for it
        // The prompt estimate: message_start's usage before the upstream's count, and the fallback when none comes.
        var estimate = MessagesTokenEstimate.Estimate(request.Native!.Body);
        var encoder = request.Stream ? new MessagesEncoder(request.Model, estimate) : null;
        var reply = await edge.AskAsync(http, front.ActorRef, new CreateChat(requestId, request, ClientKeyFilter.Caller(http)) { KeyId = ClientKeyFilter.KeyId(http) }, encoder, MessagesHttpErrors.WriteAsync);
        await (reply switch
        {
            null => Task.CompletedTask,
            ChatRejected r => EdgeStreams.WriteFailureAsync(http, r.Error, encoder, MessagesHttpErrors.WriteAsync),
            // An Anthropic upstream's own events (and whole message) reach the client as they came: event and block
            // types the relay has never heard of, and the upstream's own usage in message_start.
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Answer, encoder ?? new MessagesEncoder(request.Model, estimate), MessagesHttpErrors.WriteAsync, writesNative: true),
            ChatCompleted { Native: { } message } => EdgeStreams.WriteCompletionAsync(http, message),
            ChatCompleted c => EdgeStreams.WriteCompletionAsync(http, MessagesCompletion.Translate(c.Body, request.Model, estimate)),
            _ => throw new UnreachableException(),
        });
    }

    /// <summary>The Messages API's own headers, sent on with the client's body to an Anthropic upstream.</summary>
    private static System.Collections.Immutable.ImmutableArray<KeyValuePair<string, string>> DialectHeaders(HttpRequest request)
    {
        var headers = System.Collections.Immutable.ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var name in (ReadOnlySpan<string>)["anthropic-beta", "anthropic-version"])
        {
            if (request.Headers[name].ToString() is { Length: > 0 } value) headers.Add(new(name, value));
        }
        return headers.ToImmutable();
    }

    /// <summary>
    /// <c>{"input_tokens": N}</c> from <see cref="MessagesTokenEstimate"/>: no upstream is asked (most cannot count),
    /// so the answer says it is an estimate, in the body and in a header.
    /// </summary>
    private static async Task CountTokensAsync(HttpContext http, OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
    {
        var parsed = await ChatRequestReader.ReadAsync(http.Request, body => ReadCountRequest(body, settings), http.RequestAborted);
        if (parsed.Error is { } invalid)
        {
            await MessagesHttpErrors.WriteAsync(http.Response, invalid);
            return;
        }
        // A model outside the key's allow-list does not exist for it, here as on every other endpoint.
        if (await ModelEndpoints.AllowedAsync(http, ledger) is { } allowed && !allowed.Contains(parsed.Request!.Model))
        {
            await MessagesHttpErrors.WriteAsync(http.Response, NoSuchModel(parsed.Request.Model));
            return;
        }
        var tokens = MessagesTokenEstimate.Estimate(parsed.Request!.Body);
        http.Response.Headers["x-orchestrator-estimate"] = "true";
        var json = System.Text.Encoding.UTF8.GetBytes($"{{\"input_tokens\":{tokens},\"estimated\":true}}");
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        await http.Response.Body.WriteAsync(json, http.RequestAborted);
    }

    /// <summary>The count request: <c>model</c> (configured here) and <c>messages</c>; the rest is only counted.</summary>
    private static ChatRequestReader.Result ReadCountRequest(ReadOnlySequence<byte> body, OrchestratorSettings settings)
    {
        if (body.IsEmpty) return Invalid("The request body is empty; expected a JSON object with 'model' and 'messages'.");
        if (!MessagesRequestReader.TryParseJson(body, out var root, out var problem)) return Invalid(problem);
        if (root.ValueKind != JsonValueKind.Object) return Invalid("The request body must be a JSON object.");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind == JsonValueKind.Null) return Invalid("model: Field required");
        if (model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } id) return Invalid("model: Input should be a valid string");
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null) return Invalid("messages: Field required");
        if (messages.ValueKind != JsonValueKind.Array) return Invalid("messages: Input should be a valid list");
        if (!settings.Resolver.TryResolve(id, out _)) return new ChatRequestReader.Result(null, NoSuchModel(id));
        return new ChatRequestReader.Result(new ChatRequest(id, false, false, null, root), null);
    }

    private static ApiError NoSuchModel(string id) => ApiError.ModelNotFound($"model: The model '{ApiError.Quote(id)}' does not exist or is not configured here.");

    private static ChatRequestReader.Result Invalid(string message) => new(null, ApiError.InvalidRequest(message, null, "invalid_request"));
}
