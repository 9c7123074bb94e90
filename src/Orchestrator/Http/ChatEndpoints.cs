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
            var ask = front.ActorRef.Ask<IChatReply>(
                new CreateChat(requestId, parsed.Request!, ClientKeyFilter.Caller(http)), edge.ReplyTimeout, http.RequestAborted);
            if (parsed.Request!.Stream) await KeepAliveUntilAsync(http, ask, edge.HeartbeatInterval);
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
                $"No upstream answered within {edge.ReplyTimeout.TotalSeconds:0}s.", "api_error", null, "timeout"));
            return;
        }

        if (!http.Response.HasStarted && reply is ChatStreaming or ChatCompleted)
            http.Response.Headers["x-orchestrator-provider"] = reply is ChatStreaming s ? s.Provider : ((ChatCompleted)reply).Provider;
        await (reply switch
        {
            ChatRejected r => EdgeStreams.WriteFailureAsync(http, r.Error),
            ChatStreaming s => edge.WriteSseAsync(http, requestId, s.Answer),
            ChatCompleted c => EdgeStreams.WriteCompletionAsync(http, c.Body),
            _ => throw new UnreachableException(),
        });
    }

    /// <summary>
    /// While retries and fallbacks run before any upstream streams, a streaming client still hears from us every
    /// heartbeat-interval; the first keep-alive commits the 200, after which a failure arrives as an error event.
    /// </summary>
    internal static async Task KeepAliveUntilAsync(HttpContext http, Task reply, TimeSpan interval)
    {
        // WaitAsync drops its timer as soon as the reply is in; a Task.Delay would keep one per request for the
        // whole interval.
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
}
