using System.Text;
using System.Text.Json;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Realtime;
using Orchestrator.Actors.Streams;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// Provider kind <c>websocket</c>: another relay's <c>/v1/realtime</c>, every request multiplexed over one persistent
/// socket (a <see cref="RealtimeClient"/>: ping/pong keep-alive with dead-peer detection, reconnect with backoff).
/// One client per connection actor, so <c>max-lifetime</c> rotates the socket the same way it rotates an HTTP pool:
/// a new socket for new requests, the old one kept until its streams end. A request on a socket that dies fails
/// like a reset connection, and the session retries, falls back or resumes it.
/// </summary>
public sealed class WebSocketUpstreamClient : IUpstreamClient
{
    private readonly ProviderSettings _settings;
    private readonly RealtimeClient _client;

    public WebSocketUpstreamClient(ProviderSettings settings)
    {
        _settings = settings;
        var upstream = settings.Upstream;
        _client = new RealtimeClient(settings.BaseUrl!, settings.ApiKey?.Reveal(), new RealtimeClientOptions
        {
            HeartbeatInterval = upstream.HeartbeatInterval,
            HeartbeatTimeout = upstream.HeartbeatInterval * 2,
            ReconnectBaseDelay = upstream.RetryBaseDelay,
            ReconnectMaxDelay = upstream.RetryMaxDelay,
            ConnectTimeout = upstream.ConnectTimeout,
        });
    }

    public UpstreamMeters Meters { get; } = new();

    public async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var body = UpstreamRequestBody.Write(call.Request, call.UpstreamModel);
        var chunks = _client.StreamAsync(body, CancellationToken.None).GetAsyncEnumerator(cancellationToken);
        try
        {
            // The first event plays the part of response headers: an answer has begun, or the server refused.
            if (!await chunks.MoveNextAsync())
                throw new UpstreamProtocolException("the realtime server ended the request without an answer");
        }
        catch (RealtimeException refused)
        {
            await chunks.DisposeAsync();
            var error = refused.Error;
            return new UpstreamRefusal(FailureClassifier.FromRefusal(error.Status, error.Message, error.Code, error.Param, _settings.ApiKey));
        }
        catch
        {
            await chunks.DisposeAsync();
            throw;
        }

        var first = chunks.Current;
        if (!call.Request.Stream)
            return new UpstreamCompletion(JsonSerializer.SerializeToUtf8Bytes(await CollectAsync(first, chunks), WireJson.Default.ChatCompletion));
        var source = Source.Single(first).Concat(Source.From(() => Rest(chunks))).Select(SseBytes.Event);
        return new UpstreamStream(StreamedBody.FromSource(source.Named($"websocket-{_settings.Name}"), new AsyncRelease(chunks)));
    }

    private static async IAsyncEnumerable<ChatCompletionChunk> Rest(IAsyncEnumerator<ChatCompletionChunk> chunks)
    {
        await using (chunks)
        {
            while (await chunks.MoveNextAsync()) yield return chunks.Current;
        }
    }

    /// <summary>A non-streamed request is streamed over the socket and handed back whole.</summary>
    private static async Task<ChatCompletion> CollectAsync(ChatCompletionChunk first, IAsyncEnumerator<ChatCompletionChunk> chunks)
    {
        await using (chunks)
        {
            var text = new StringBuilder();
            string? finish = null;
            Usage? usage = null;
            var chunk = first;
            while (true)
            {
                if (chunk.Usage is not null) usage = chunk.Usage;
                if (chunk.Choices.Count > 0)
                {
                    text.Append(chunk.Choices[0].Delta.Content);
                    finish = chunk.Choices[0].FinishReason ?? finish;
                }
                if (!await chunks.MoveNextAsync()) break;
                chunk = chunks.Current;
            }
            return new ChatCompletion
            {
                Id = first.Id,
                Created = first.Created,
                Model = first.Model,
                Choices = [new CompletionChoice { Message = new AssistantMessage { Content = text.ToString() }, FinishReason = finish }],
                Usage = usage,
            };
        }
    }

    public async Task ProbeAsync(TimeSpan timeout)
    {
        // The socket itself is the health: a probe is a connect (reused while it is open).
        using var cancel = new CancellationTokenSource(timeout);
        var body = """{"model":"__probe__","messages":[{"role":"user","content":"ping"}]}"""u8.ToArray();
        try
        {
            await foreach (var _ in _client.StreamAsync(body, cancel.Token)) break;
        }
        catch (RealtimeException)
        {
            // The server answered (404 for the probe model): it is alive.
        }
    }

    public void Dispose() => _ = _client.DisposeAsync().AsTask();

    private sealed class AsyncRelease(IAsyncEnumerator<ChatCompletionChunk> chunks) : IDisposable
    {
        public void Dispose() => _ = chunks.DisposeAsync().AsTask();
    }
}
