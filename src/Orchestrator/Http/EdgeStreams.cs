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
/// </summary>
public sealed class EdgeStreams(ActorSystem system, OrchestratorSettings settings, ILogger<EdgeStreams> log)
{
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly Task<bool> Flushed = Task.FromResult(true);

    private readonly IMaterializer _materializer = system.Materializer();

    public TimeSpan ReplyTimeout { get; } = settings.Http.ReplyTimeout;

    public async Task WriteSseAsync(HttpContext http, string requestId, Source<ChatCompletionChunk, NotUsed> chunks)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";   // nginx and friends: do not hold events back
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var events = new SseEventWriter(response.BodyWriter);
        var (killSwitch, completion) = chunks
            .ViaMaterialized(KillSwitches.Single<ChatCompletionChunk>(), Keep.Right)
            .SelectAsync(1, events.WriteAsync)
            .ToMaterialized(Sink.Ignore<bool>(), Keep.Both)
            .Run(_materializer);

        await using var abort = http.RequestAborted.Register(() => killSwitch.Abort(new ClientGoneException()));
        try
        {
            await completion;
            await response.BodyWriter.WriteAsync(Done, http.RequestAborted);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the stream is already aborted and the upstream call closed with it.
        }
        catch (Exception ex)
        {
            var failure = FailureClassifier.FromException(ex);
            log.LogError("Request {RequestId}: stream failed after it started: {Failure}", requestId, failure.Message);
            var error = ApiError.UpstreamFailed($"The upstream stream failed: {failure.Message}.");
            if (!response.HasStarted)
            {
                await OpenAiErrors.WriteAsync(response, error);
                return;
            }
            // Headers are gone: the error travels in the stream, and no [DONE] follows, so no client mistakes a
            // cut answer for a whole one.
            await events.WriteErrorAsync(OpenAiErrors.Envelope(error), http.RequestAborted);
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

        public Task<bool> WriteAsync(ChatCompletionChunk chunk)
        {
            Write(chunk, WireJson.Default.ChatCompletionChunk);
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
