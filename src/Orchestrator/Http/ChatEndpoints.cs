using System.Diagnostics;
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
        var reply = await edge.AskAsync(http, front.ActorRef, new CreateChat(requestId, parsed.Request!, ClientKeyFilter.Caller(http)) { KeyId = ClientKeyFilter.KeyId(http) });
        await (reply switch
        {
            null => Task.CompletedTask,
            ChatRejected r => EdgeStreams.WriteFailureAsync(http, r.Error),
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Answer),
            ChatCompleted c => EdgeStreams.WriteCompletionAsync(http, c.Body),
            _ => throw new UnreachableException(),
        });
    }
}
