using Akka.Streams.Dsl;

namespace Orchestrator.Http;

/// <summary>
/// Makes the edge's <see cref="EdgeStreams"/> (and its one materializer) when the host starts, after the actor system
/// and before Kestrel takes requests, and runs one throwaway stream on it: a fresh process spends a few hundred ms
/// compiling the stream machinery, and that belongs to startup, not to the first socket's lifetime or first answer.
/// </summary>
public sealed class EdgeStreamsStartup(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var edge = services.GetRequiredService<EdgeStreams>();
        await Source.Single("warm-up").Select(text => text).RunWith(Sink.ForEach<string>(_ => { }), edge.Materializer);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
