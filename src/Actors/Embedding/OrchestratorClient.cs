using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using System.Threading.Channels;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Routing;
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
    /// <summary>
    /// The answer stage into a one-element channel, fused once (as the HTTP edge does): a request only adds its
    /// parts as an attribute. The kill switch closes the upstream when the caller stops iterating.
    /// </summary>
    private static readonly IGraph<ClosedShape, (UniqueKillSwitch, ChannelReader<AnswerBlock>)> Fused = Akka.Streams.Fusing.Aggressive(
        AnswerStream.Shared.ViaMaterialized(KillSwitches.Single<AnswerBlock>(), Keep.Right)
            .ToMaterialized(ChannelSink.AsReader<AnswerBlock>(1, singleReader: true), Keep.Both));

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
        var (killSwitch, blocks) = AnswerStream.RequestOf(streaming.Answer) is { } answer
            ? _materializer.Materialize(Fused.WithAttributes(new Attributes(answer)))
            : streaming.Answer.ViaMaterialized(KillSwitches.Single<AnswerBlock>(), Keep.Right)
                .ToMaterialized(ChannelSink.AsReader<AnswerBlock>(1, singleReader: true), Keep.Both).Run(_materializer);
        try
        {
            await foreach (var block in blocks.ReadAllAsync(cancellationToken))
            {
                foreach (var chunk in block.ReadChunks()) yield return chunk;
            }
        }
        finally
        {
            // Broken out of, cancelled, or done: a stream still running closes its upstream call.
            killSwitch.Shutdown();
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
