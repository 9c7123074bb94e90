using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Actors.Front;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// The OpenAI Responses API front, stateless subset: <c>POST /v1/responses</c>. The request is translated into a
/// chat request (<see cref="ResponsesRequest"/>) and runs through the same front, sessions and providers as
/// <c>/v1/chat/completions</c>; the answer is written back as Responses events (<see cref="ResponsesEncoder"/>) or
/// as one response object (<see cref="ResponsesCompletion"/>). Nothing is stored: <c>store</c>,
/// <c>previous_response_id</c> and <c>conversation</c> are refused, and there is no <c>GET /v1/responses/{id}</c>.
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
        var (body, tooLarge) = await ReadBodyAsync(http.Request, http.RequestAborted);
        if (tooLarge is not null)
        {
            await OpenAiErrors.WriteAsync(http.Response, tooLarge);
            return;
        }
        var translated = ResponsesRequest.Translate(new ReadOnlySequence<byte>(body));
        if (translated.Error is { } invalid)
        {
            await OpenAiErrors.WriteAsync(http.Response, invalid);
            return;
        }
        var parsed = ChatRequestReader.Parse(new ReadOnlySequence<byte>(translated.ChatBody!));
        if (parsed.Request is { } chat) parsed = ChatRequestReader.WithFaultPlan(chat, http.Request.Headers[ChatRequestReader.FaultHeader].ToString());
        if (parsed.Error is { } refused)
        {
            await OpenAiErrors.WriteAsync(http.Response, refused);
            return;
        }
        var request = parsed.Request! with { Native = new NativeRequest(Dialect.OpenAiResponses, translated.Body) };
        var echo = new ResponseEcho(translated.Body);
        var encoder = new ResponsesEncoder(echo, createdAt);

        var requestId = http.TraceIdentifier;
        http.Response.Headers["x-request-id"] = requestId;
        IChatReply reply;
        try
        {
            // The only Ask on the request path: HTTP is request/response, actors are not.
            var ask = front.ActorRef.Ask<IChatReply>(new CreateChat(requestId, request, ClientKeyFilter.Caller(http)), edge.ReplyTimeout, http.RequestAborted);
            if (request.Stream) await KeepAliveUntilAsync(http, ask, edge.HeartbeatInterval);
            reply = await ask;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            front.ActorRef.Tell(new CancelChat(requestId));
            return;
        }
        catch (AskTimeoutException)
        {
            front.ActorRef.Tell(new CancelChat(requestId));
            await EdgeStreams.WriteFailureAsync(http, new ApiError(504,
                $"No upstream answered within {edge.ReplyTimeout.TotalSeconds:0}s.", "api_error", null, "timeout"), encoder);
            return;
        }

        if (!http.Response.HasStarted && reply is ChatStreaming or ChatCompleted)
            http.Response.Headers["x-orchestrator-provider"] = reply is ChatStreaming s ? s.Provider : ((ChatCompleted)reply).Provider;
        await (reply switch
        {
            ChatRejected r => EdgeStreams.WriteFailureAsync(http, r.Error, encoder),
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Answer, encoder, inputTokensEstimate: TokenEstimate.Input(request.Body)),
            ChatCompleted c => WriteResponseAsync(http, c.Body, echo, createdAt, TokenEstimate.Input(request.Body)),
            _ => throw new UnreachableException(),
        });
    }

    private static Task WriteResponseAsync(HttpContext http, ReadOnlyMemory<byte> completion, ResponseEcho echo, long createdAt, int inputTokensEstimate)
    {
        var response = ResponsesCompletion.Translate(completion.Span, echo, createdAt, inputTokensEstimate);
        return response is null
            ? OpenAiErrors.WriteAsync(http.Response, ApiError.UpstreamFailed("The upstream's answer could not be read."))
            : EdgeStreams.WriteCompletionAsync(http, response);
    }

    /// <summary>As for chat: while no upstream streams yet, a streaming client hears a keep-alive every heartbeat-interval.</summary>
    private static async Task KeepAliveUntilAsync(HttpContext http, Task reply, TimeSpan interval)
    {
        while (!reply.IsCompleted)
        {
            try
            {
                await reply.WaitAsync(interval, http.RequestAborted);
            }
            catch (TimeoutException)
            {
                await EdgeStreams.WriteKeepAliveAsync(http);
            }
            catch (Exception) when (reply.IsCompleted)
            {
                // The reply's own failure is the caller's to read.
            }
        }
    }

    /// <summary>The whole body, or the 413 when it is larger than the configured limit.</summary>
    private static async Task<(byte[] Body, ApiError? Error)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var reader = request.BodyReader;
        ReadResult read;
        try
        {
            while (true)
            {
                read = await reader.ReadAsync(ct);
                if (read.IsCompleted || read.IsCanceled) break;
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);   // keep everything until the body is whole
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return ([], new ApiError(413, $"The request body is larger than the {limit} bytes this service accepts.", "invalid_request_error", null, "request_too_large"));
        }
        var body = read.Buffer.ToArray();
        reader.AdvanceTo(read.Buffer.End);
        return (body, null);
    }
}
