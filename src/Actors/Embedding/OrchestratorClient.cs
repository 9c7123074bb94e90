using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Embedding;

/// <summary>
/// The engine in-process, for a service that embeds it instead of calling it over HTTP: the same front actor,
/// routes and fallback, with no sockets on the caller's side. Register it with <c>services.AddOrchestrator(...)</c>.
/// </summary>
public sealed class OrchestratorClient
{
    private readonly IActorRef _front;
    private readonly IMaterializer _materializer;
    private readonly TimeSpan _replyTimeout;

    public OrchestratorClient(ActorSystem system, IRequiredActor<HttpFrontActor> front, OrchestratorSettings settings)
    {
        _front = front.ActorRef;
        _materializer = system.Materializer();
        _replyTimeout = settings.Http.ReplyTimeout;
    }

    /// <summary>
    /// Streams the answer chunk by chunk, pulling from the upstream only as fast as the caller iterates.
    /// Breaking out of the loop or cancelling closes the upstream call.
    /// </summary>
    public async IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reply = await AskAsync(request with { Stream = true }, cancellationToken);
        if (reply is not ChatStreaming streaming) throw Unexpected(reply);
        await foreach (var block in streaming.Answer.RunAsAsyncEnumerable(_materializer).WithCancellation(cancellationToken))
        {
            foreach (var chunk in block.ReadChunks()) yield return chunk;
        }
    }

    public async Task<ChatCompletion> CompleteAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        var reply = await AskAsync(request with { Stream = false, IncludeUsage = false }, cancellationToken);
        return reply is ChatCompleted completed ? completed.Parse() : throw Unexpected(reply);
    }


    private async Task<IChatReply> AskAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var requestId = "emb-" + Guid.NewGuid().ToString("N");
        try
        {
            var reply = await _front.Ask<IChatReply>(new CreateChat(requestId, request, "embedded"), _replyTimeout, cancellationToken);
            return reply is ChatRejected rejected ? throw new OrchestratorException(rejected.Error) : reply;
        }
        catch (OperationCanceledException)
        {
            _front.Tell(new CancelChat(requestId));
            throw;
        }
    }

    private static InvalidOperationException Unexpected(IChatReply reply) =>
        new($"the engine answered {reply.GetType().Name} where it should not have");
}
