using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Http;

/// <summary>
/// Runs an answer's chunks into an HTTP response as Server-Sent Events. The upstream read, the SSE parsing and the
/// write to the client run as one fused stream: each event is written and flushed before the next is pulled, so a
/// client that reads slowly slows the upstream read and memory per stream stays bounded. A client that goes away
/// aborts the stream, which closes the upstream call. One materializer serves every request.
/// The status line waits for the first event or keep-alive: until then a failure still gets a real HTTP status.
/// </summary>
public sealed class EdgeStreams(ActorSystem system, OrchestratorSettings settings, ILogger<EdgeStreams> log)
{
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();
    private static readonly Task<bool> Flushed = Task.FromResult(true);

    /// <summary>Most events written per flush; bounds what a burst holds in memory.</summary>
    private const int MaxBatch = 64;

    /// <summary>Stands for "send a keep-alive comment"; injected by the stream when it has been quiet, never serialized.</summary>
    private static readonly ChatCompletionChunk KeepAliveMarker = new() { Id = "keep-alive" };

    private readonly IMaterializer _materializer = system.Materializer();

    public TimeSpan ReplyTimeout { get; } = settings.Http.ReplyTimeout;
    public TimeSpan HeartbeatInterval { get; } = settings.Http.HeartbeatInterval;

    /// <summary>Sets the SSE headers; nothing reaches the wire until the first write.</summary>
    public static void PrepareSse(HttpContext http)
    {
        var response = http.Response;
        if (response.HasStarted) return;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";   // nginx and friends: do not hold events back
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>Commits the 200 and sends <c>: keep-alive</c> (while the engine is still looking for an upstream).</summary>
    public static async Task WriteKeepAliveAsync(HttpContext http)
    {
        PrepareSse(http);
        await http.Response.BodyWriter.WriteAsync(KeepAliveComment, http.RequestAborted);
    }

    /// <summary>A failure to report: as a JSON error with its status if nothing was sent yet, else as an error event with no [DONE] after it.</summary>
    public static async Task WriteFailureAsync(HttpContext http, ApiError error)
    {
        if (!http.Response.HasStarted)
        {
            await OpenAiErrors.WriteAsync(http.Response, error);
            return;
        }
        var writer = new SseEventWriter(http.Response.BodyWriter);
        await writer.WriteErrorAsync(OpenAiErrors.Envelope(error), http.RequestAborted);
    }

    public async Task WriteSseAsync(HttpContext http, string requestId, Source<ChatCompletionChunk, NotUsed> chunks)
    {
        PrepareSse(http);
        var events = new SseEventWriter(http.Response.BodyWriter);
        var (killSwitch, completion) = chunks
            .ViaMaterialized(KillSwitches.Single<ChatCompletionChunk>(), Keep.Right)
            // A stream quiet for heartbeat-interval (a model thinking, a resume under way) gets a comment, so
            // proxies and load balancers keep it open; clients and SDKs ignore comments.
            .KeepAlive(HeartbeatInterval, () => KeepAliveMarker)
            // While a write is being flushed, chunks that arrive meanwhile are gathered and go out in one flush: one
            // flush per event when the upstream is slow (no added latency), one per burst when it is fast.
            .Batch(MaxBatch, chunk => new List<ChatCompletionChunk>(4) { chunk }, (batch, chunk) =>
            {
                batch.Add(chunk);
                return batch;
            })
            .SelectAsync(1, events.WriteAsync)
            .ToMaterialized(Sink.Ignore<bool>(), Keep.Both)
            .Run(_materializer);

        await using var abort = http.RequestAborted.Register(() => killSwitch.Abort(new ClientGoneException()));
        try
        {
            await completion;
            await http.Response.BodyWriter.WriteAsync(Done, http.RequestAborted);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the stream is already aborted and the upstream call closed with it.
        }
        catch (Exception ex)
        {
            var error = FailureClassifier.StreamError(ex);
            // The session already logged why it gave up; anything else reaching here is unexpected and keeps its trace.
            if (ex is ChatFailedException) log.LogWarning("Request {RequestId}: stream ended with {Status}: {Error}", requestId, error.Status, error.Message);
            else log.LogError(ex, "Request {RequestId}: stream ended with {Status}: {Error}", requestId, error.Status, error.Message);
            // Once headers are gone the error travels in the stream, and no [DONE] follows, so no client mistakes
            // a cut answer for a whole one.
            await WriteFailureAsync(http, error);
        }
    }

    public static Task WriteCompletionAsync(HttpContext http, ChatCompletion completion)
    {
        http.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(http.Response.Body, completion, WireJson.Default.ChatCompletion, http.RequestAborted);
    }

    private sealed class ClientGoneException() : Exception("the client disconnected");

    /// <summary>Writes <c>data: {json}\n\n</c> straight into the response pipe, one reused JSON writer per response.</summary>
    private sealed class SseEventWriter(PipeWriter pipe)
    {
        private readonly Utf8JsonWriter _json = new(pipe);

        public Task<bool> WriteAsync(List<ChatCompletionChunk> chunks)
        {
            foreach (var chunk in chunks)
            {
                if (ReferenceEquals(chunk, KeepAliveMarker)) pipe.Write(KeepAliveComment);
                else Write(chunk, WireJson.Default.ChatCompletionChunk);
            }
            var flush = pipe.FlushAsync();
            if (!flush.IsCompletedSuccessfully) return AwaitFlush(flush);
            var result = flush.Result;   // read once: a ValueTask's result may be taken only once
            return result.IsCanceled || result.IsCompleted ? Task.FromException<bool>(new ClientGoneException()) : Flushed;
        }

        public async Task WriteErrorAsync(ErrorEnvelope error, CancellationToken ct)
        {
            Write(error, WireJson.Default.ErrorEnvelope);
            await pipe.FlushAsync(ct);
        }

        private void Write<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        {
            pipe.Write("data: "u8);
            _json.Reset(pipe);
            JsonSerializer.Serialize(_json, value, type);
            pipe.Write("\n\n"u8);
        }

        private static async Task<bool> AwaitFlush(ValueTask<FlushResult> flush)
        {
            var result = await flush;
            if (result.IsCanceled || result.IsCompleted) throw new ClientGoneException();
            return true;
        }
    }
}
