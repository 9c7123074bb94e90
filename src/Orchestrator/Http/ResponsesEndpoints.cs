using System.Buffers;
using System.Diagnostics;
using Akka.Hosting;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Actors.Front;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The OpenAI Responses API front, stateless subset: <c>POST /v1/responses</c>. The request is translated into a
/// chat request (<see cref="ResponsesRequest"/>) and runs through the same front, sessions and providers as
/// <c>/v1/chat/completions</c>; the answer is written back as Responses events (<see cref="ResponsesEncoder"/>) or
/// as one response object (<see cref="ResponsesCompletion"/>). The relay stores nothing: <c>previous_response_id</c>
/// and <c>conversation</c> reach only a native Responses provider (<see cref="NativeRequest.OnlyNative"/>), and there is
/// no <c>GET /v1/responses/{id}</c>. What the translation drops is
/// named in <c>x-orchestrator-dropped</c> (<see cref="ChatRequest.Dropped"/>).
/// Errors keep the OpenAI shape, which the Responses API shares.
/// </summary>
public static class ResponsesEndpoints
{
    public static IEndpointRouteBuilder MapResponsesEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/responses", CreateResponseAsync).AddEndpointFilter<ClientKeyFilter>();
        return endpoints;
    }

    private static async Task CreateResponseAsync(HttpContext http, IRequiredActor<HttpFrontActor> front, EdgeStreams edge)
    {
        var createdAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // The body limit (413) and the simulator's fault header as for chat; the Responses body is translated first.
        ResponsesRequest.Result? translated = null;
        var parsed = await ChatRequestReader.ReadAsync(http.Request, body =>
        {
            translated = ResponsesRequest.Translate(body);
            return translated.Error is { } invalid
                ? new ChatRequestReader.Result(null, invalid)
                : ChatRequestReader.Parse(new ReadOnlySequence<byte>(translated.ChatBody!));
        }, http.RequestAborted);
        if (parsed.Error is { } refused)
        {
            await OpenAiErrors.WriteAsync(http.Response, refused);
            return;
        }
        var native = new NativeRequest(Dialect.OpenAiResponses, translated!.Body) { Headers = PassedHeaders(http.Request), OnlyNative = translated.OnlyNative };
        var request = parsed.Request! with { Native = native, Dropped = translated.Dropped };
        var echo = new ResponseEcho(translated.Body);
        var encoder = new ResponsesEncoder(echo, createdAt, tools: translated.Tools);

        var requestId = http.TraceIdentifier;
        var reply = await edge.AskAsync(http, front.ActorRef, new CreateChat(requestId, request, ClientKeyFilter.Caller(http)) { KeyId = ClientKeyFilter.KeyId(http) }, encoder);
        await (reply switch
        {
            null => Task.CompletedTask,
            ChatRejected r => EdgeStreams.WriteFailureAsync(http, r.Error, encoder),
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Answer, encoder, inputTokensEstimate: TokenEstimate.Input(request.Body), writesNative: true),
            // A native Responses route answered with its own response object: the client gets it as it came.
            ChatCompleted { Native: { } upstreamResponse } => EdgeStreams.WriteCompletionAsync(http, upstreamResponse),
            ChatCompleted c => WriteResponseAsync(http, c.Body, echo, createdAt, TokenEstimate.Input(request.Body), translated.Tools),
            _ => throw new UnreachableException(),
        });
    }

    /// <summary>The Responses API's own request headers, sent on to a native Responses upstream (never Authorization).</summary>
    private static System.Collections.Immutable.ImmutableArray<KeyValuePair<string, string>> PassedHeaders(HttpRequest request) =>
        request.Headers.TryGetValue("OpenAI-Beta", out var beta) && beta.ToString() is { Length: > 0 } value
            ? [new("OpenAI-Beta", value)]
            : [];

    private static Task WriteResponseAsync(HttpContext http, ReadOnlyMemory<byte> completion, ResponseEcho echo, long createdAt, int inputTokensEstimate, ResponsesToolMap tools)
    {
        var response = ResponsesCompletion.Translate(completion.Span, echo, createdAt, inputTokensEstimate, tools: tools);
        return response is null
            ? OpenAiErrors.WriteAsync(http.Response, ApiError.UpstreamFailed("The upstream's answer could not be read."))
            : EdgeStreams.WriteCompletionAsync(http, response);
    }
}
