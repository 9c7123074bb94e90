using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Front;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

public static class ChatEndpoints
{
    public static IEndpointRouteBuilder MapChatEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/chat/completions", CreateCompletionAsync).AddEndpointFilter<ClientKeyFilter>();
        return endpoints;
    }

    private static async Task CreateCompletionAsync(HttpContext http, IRequiredActor<HttpFrontActor> front, EdgeStreams edge)
    {
        var parsed = await ChatRequestReader.ReadAsync(http.Request, http.RequestAborted);
        if (parsed.Error is { } invalid)
        {
            await OpenAiErrors.WriteAsync(http.Response, invalid);
            return;
        }

        var requestId = http.TraceIdentifier;
        http.Response.Headers["x-request-id"] = requestId;
        IChatReply reply;
        try
        {
            // The only Ask on the request path: HTTP is request/response, actors are not.
            reply = await front.ActorRef.Ask<IChatReply>(
                new CreateChat(requestId, parsed.Request!, ClientKeyFilter.Caller(http)), edge.ReplyTimeout, http.RequestAborted);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            front.ActorRef.Tell(new CancelChat(requestId));
            return;
        }
        catch (AskTimeoutException)
        {
            front.ActorRef.Tell(new CancelChat(requestId));
            await OpenAiErrors.WriteAsync(http.Response, new ApiError(504,
                $"No upstream answered within {edge.ReplyTimeout.TotalSeconds:0}s.", "api_error", null, "timeout"));
            return;
        }

        http.Response.Headers["x-orchestrator-provider"] = reply switch
        {
            ChatStreaming s => s.Provider,
            ChatCompleted c => c.Provider,
            _ => default,
        };
        await (reply switch
        {
            ChatRejected r => OpenAiErrors.WriteAsync(http.Response, r.Error),
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Chunks),
            ChatCompleted c => EdgeStreams.WriteCompletionAsync(http, c.Completion),
            _ => throw new UnreachableException(),
        });
    }
}
