using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Routing;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Telemetry;

namespace Orchestrator.Http;

/// <summary>
/// Runs an answer's chunks into an HTTP response as Server-Sent Events. The upstream read, the SSE parsing and the
/// write to the client run as one fused stream: each event is written and flushed before the next is pulled, so a
/// client that reads slowly slows the upstream read and memory per stream stays bounded. A client that goes away
/// aborts the stream, which closes the upstream call. One materializer serves every request.
/// The status line waits for the first event or keep-alive: until then a failure still gets a real HTTP status.
/// </summary>
public sealed class EdgeStreams(ActorSystem system, OrchestratorSettings settings, EdgeTelemetry telemetry, ILogger<EdgeStreams> log)
{
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private readonly IMaterializer _materializer = system.Materializer();

    /// <summary>The edge's one materializer, for the other streams the host runs (a realtime socket's reads).</summary>
    public IMaterializer Materializer => _materializer;

    /// <summary>
    /// The answer stage and the response sink, fused once for every request: a request only adds its parts as
    /// attributes, so materializing it skips fusing, most of what a small graph costs (bench/README.md).
    /// </summary>
    private static readonly IGraph<ClosedShape, Task> Fused = Akka.Streams.Fusing.Aggressive(AnswerStream.Shared.ToMaterialized(SseResponseSink.Shared, Keep.Right));

    public TimeSpan ReplyTimeout { get; } = settings.Http.ReplyTimeout;
    public TimeSpan HeartbeatInterval { get; } = settings.Http.HeartbeatInterval;

    /// <summary>
    /// Hands <paramref name="command"/> to the front and waits for its reply: the only Ask on the request path (HTTP
    /// is request/response, actors are not). A streaming client hears a keep-alive every heartbeat-interval while
    /// retries and fallbacks run. Null when the request ended here: the client went away (the engine is told to
    /// cancel), or no reply came within reply-timeout (504, in the front's shape).
    /// </summary>
    public async Task<IChatReply?> AskAsync(HttpContext http, IActorRef front, CreateChat command, IAnswerEncoder? encoder = null, Func<HttpResponse, ApiError, Task>? writeError = null)
    {
        command = telemetry.Asking(http, command);
        IChatReply reply;
        try
        {
            var ask = front.Ask<IChatReply>(command, ReplyTimeout, http.RequestAborted);
            if (command.Request.Stream) await KeepAliveUntilAsync(http, ask, HeartbeatInterval, encoder);
            reply = await ask;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            front.Tell(new CancelChat(command.RequestId));
            return null;
        }
        catch (AskTimeoutException)
        {
            front.Tell(new CancelChat(command.RequestId));
            await WriteFailureAsync(http, new ApiError(504, $"No upstream answered within {ReplyTimeout.TotalSeconds:0}s.", "api_error", null, "timeout"), encoder, writeError);
            return null;
        }
        EdgeTelemetry.Answered(http, reply);
        if (!http.Response.HasStarted && reply is IChatAnswer answer)
        {
            http.Response.Headers["x-orchestrator-provider"] = answer.Provider;
            foreach (var (name, value) in answer.Headers) http.Response.Headers[name] = value;
            NameDropped(http, command, answer.Provider);
        }
        return reply;
    }

    public const string DroppedHeader = "x-orchestrator-dropped";

    /// <summary>
    /// What the front's translation left out, named when the upstream that answered read the translation (a native
    /// upstream got the request as the client wrote it, so nothing was dropped for it).
    /// </summary>
    private void NameDropped(HttpContext http, CreateChat command, string provider)
    {
        var request = command.Request;
        if (!settings.Providers.TryGetValue(provider, out var answered)) return;
        if (request.Native is { } native && answered.Speaks(native.Dialect)) return;
        var carried = CarriedBy(answered.Kind);
        if (request.Dropped.IsDefaultOrEmpty && carried is null) return;   // most requests: nothing to name, nothing to build
        IEnumerable<string> names = request.Dropped.IsDefault ? [] : request.Dropped;
        // The chat body itself, where the upstream's translation has no place for a field.
        if (carried is not null)
            names = names.Concat(request.Body.EnumerateObject().Where(p => !carried.Contains(p.Name) && p.Value.ValueKind != System.Text.Json.JsonValueKind.Null).Select(p => p.Name));
        var dropped = HeaderValue(names);
        if (dropped.Length == 0) return;
        http.Response.Headers[DroppedHeader] = dropped;
        log.LogDebug("Request {RequestId}: {Provider} read a translation without {Dropped}", command.RequestId, provider, dropped);
    }

    /// <summary>Names as a header can carry them: printable ASCII only (a client's field name is any string), each at most 64 characters, at most 16 named.</summary>
    private static string HeaderValue(IEnumerable<string> names)
    {
        var safe = names.Select(n => new string([.. n.Where(c => c is >= ' ' and <= '~' and not ',').Take(64)])).Where(n => n.Length > 0).Distinct().ToList();
        return safe.Count <= 16 ? string.Join(", ", safe) : string.Join(", ", safe.Take(16)) + $", and {safe.Count - 16} more";
    }

    private static IReadOnlySet<string>? CarriedBy(ProviderKind kind) => kind switch
    {
        ProviderKind.Anthropic => Actors.Dialects.Anthropic.AnthropicRequest.CarriedFields,
        ProviderKind.Gemini => Actors.Dialects.Gemini.GeminiRequest.CarriedFields,
        _ => null,
    };

    /// <summary>
    /// While retries and fallbacks run before any upstream streams, a streaming client still hears from us every
    /// heartbeat-interval; the first keep-alive commits the 200, after which a failure arrives as an error event.
    /// (An SSE comment: before the first event no front's client reads it as one, Anthropic's included; a front whose
    /// client would stall on one says what to send instead, in its encoder's <see cref="IAnswerEncoder.KeepAlive"/>.)
    /// </summary>
    private static async Task KeepAliveUntilAsync(HttpContext http, Task reply, TimeSpan interval, IAnswerEncoder? encoder)
    {
        var keepAlive = encoder is null ? SseResponseSink.KeepAliveComment : encoder.KeepAlive.ToArray();
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
                await WriteKeepAliveAsync(http, keepAlive);
            }
            catch (Exception) when (reply.IsCompleted)
            {
                // The reply's own failure is the caller's to read.
            }
        }
    }

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

    /// <summary>Commits the 200 and sends the keep-alive (while the engine is still looking for an upstream).</summary>
    private static async Task WriteKeepAliveAsync(HttpContext http, byte[] keepAlive)
    {
        PrepareSse(http);
        await http.Response.BodyWriter.WriteAsync(keepAlive, http.RequestAborted);
    }

    /// <summary>
    /// A failure to report: as a JSON error with its status if nothing was sent yet (<paramref name="writeError"/>,
    /// OpenAI's shape by default), else as an error event (the <paramref name="encoder"/>'s, OpenAI's
    /// <c>data: {error}</c> by default) with nothing after it that could pass for a whole answer.
    /// </summary>
    public static async Task WriteFailureAsync(HttpContext http, ApiError error, IAnswerEncoder? encoder = null, Func<HttpResponse, ApiError, Task>? writeError = null)
    {
        if (!http.Response.HasStarted)
        {
            await (writeError ?? OpenAiErrors.WriteAsync)(http.Response, error);
            return;
        }
        if (encoder is null)
        {
            await WriteErrorEventAsync(http.Response.BodyWriter, OpenAiErrors.Envelope(error), http.RequestAborted);
            return;
        }
        encoder.Fail(error, http.Response.BodyWriter);
        await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    /// <summary>
    /// Runs <paramref name="answer"/> into the response. With an <paramref name="encoder"/> (a front that speaks
    /// another dialect) every chunk is translated on the way and the end is the encoder's; failures before the
    /// first byte go through <paramref name="writeError"/> (OpenAI's shape by default).
    /// </summary>
    /// <param name="inputTokensEstimate">The request's input, estimated (<see cref="TokenEstimate"/>): reported, marked, if the upstream sends no usage.</param>
    /// <param name="writesNative">Blocks carrying the upstream's own events in the client's dialect are written as they came (<see cref="FrontTranslator"/>).</param>
    public async Task WriteSseAsync(HttpContext http, string requestId, Source<AnswerBlock, NotUsed> answer, IAnswerEncoder? encoder = null,
        Func<HttpResponse, ApiError, Task>? writeError = null, int inputTokensEstimate = 0, bool writesNative = false)
    {
        PrepareSse(http);
        var translator = encoder is null ? null : new FrontTranslator(encoder, inputTokensEstimate, writesNative);
        var request = AnswerStream.RequestOf(answer);
        var clock = EdgeTelemetry.StreamStarted(http, request?.First.Timing ?? default);
        int? failedWith = null;
        var target = new SseResponseSink.Target(http.Response.BodyWriter, HeartbeatInterval, http.RequestAborted) { Translator = translator, Clock = clock };
        var done = request is not null
            ? _materializer.Materialize(Fused.WithAttributes(new Attributes(request).And(new Attributes(target))))
            : answer.RunWith(SseResponseSink.Shared.WithAttributes(new Attributes(target)), _materializer);
        try
        {
            await done;
            if (translator is null) await http.Response.BodyWriter.WriteAsync(Done, http.RequestAborted);
            else
            {
                translator.Complete(http.Response.BodyWriter);
                await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
            }
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the stream is already aborted and the upstream call closed with it.
        }
        catch (Exception ex)
        {
            var error = FailureClassifier.StreamError(ex);
            failedWith = error.Status;
            // The session already logged why it gave up; anything else reaching here is unexpected and keeps its trace.
            if (ex is ChatFailedException) log.LogWarning("Request {RequestId}: stream ended with {Status}: {Error}", requestId, error.Status, error.Message);
            else log.LogError(ex, "Request {RequestId}: stream ended with {Status}: {Error}", requestId, error.Status, error.Message);
            // Once headers are gone the error travels in the stream, and no [DONE] follows, so no client mistakes
            // a cut answer for a whole one.
            await WriteFailureAsync(http, error, encoder, writeError);
        }
        finally
        {
            EdgeTelemetry.StreamEnded(http, clock, failedWith);
        }
    }

    /// <summary>A whole answer, written as the provider sent it.</summary>
    public static async Task WriteCompletionAsync(HttpContext http, ReadOnlyMemory<byte> body)
    {
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.BodyWriter.WriteAsync(body, http.RequestAborted);
    }

    /// <summary>Writes <c>data: {error}\n\n</c> into the response pipe.</summary>
    private static async Task WriteErrorEventAsync(PipeWriter pipe, ErrorEnvelope error, CancellationToken ct)
    {
        pipe.Write("data: "u8);
        using (var json = new Utf8JsonWriter(pipe))
        {
            JsonSerializer.Serialize(json, error, WireJson.Default.ErrorEnvelope);
        }
        pipe.Write("\n\n"u8);
        await pipe.FlushAsync(ct);
    }
}
