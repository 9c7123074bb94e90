using System.Collections.Frozen;
using System.Diagnostics;
using System.Globalization;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Telemetry;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;
using Serilog.Context;

namespace Orchestrator.Telemetry;

/// <summary>
/// What the HTTP edge reports per request. A middleware first in the pipeline gives every response its
/// <c>x-request-id</c> (errors and refusals included), puts <c>RequestId</c> on every log line written while the
/// request runs, and once the request is over counts it in <c>orchestrator_requests_total</c>; the completion
/// endpoints tell it their model, provider and outcome through <see cref="EdgeRequest"/>, and a whole answer gets
/// <c>x-orchestrator-overhead-ms</c>. Labels come from the configuration: a model that is not configured counts as
/// <c>unknown</c>.
/// </summary>
public sealed class EdgeTelemetry(OrchestratorSettings settings)
{
    public const string RequestIdHeader = "x-request-id";
    public const string OverheadHeader = "x-orchestrator-overhead-ms";

    /// <summary>Status counted for a client that went away before its answer was written (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    private readonly FrozenSet<string> _models = settings.Resolver.Labels.ToFrozenSet(StringComparer.Ordinal);
    private static readonly Func<object, Task> OnStarting = StartingResponse;

    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        var edge = new EdgeRequest(Stopwatch.GetTimestamp());
        http.Features.Set(edge);
        http.Response.OnStarting(OnStarting, http);
        using (LogContext.PushProperty("RequestId", http.TraceIdentifier))
        using (LogContext.PushProperty("TraceId", Activity.Current?.TraceId.ToHexString()))
        {
            await next(http);
        }
        if (edge.Front is not { } front) return;
        var status = http.RequestAborted.IsCancellationRequested && !edge.Finished ? ClientClosedRequest : edge.Status ?? http.Response.StatusCode;
        OrchestratorMetrics.CountRequest(edge.Model!, edge.Provider ?? "none", front, status);
        if (edge.Overhead is { } overhead) OrchestratorMetrics.RecordOverhead(edge.Model!, edge.Provider ?? "none", front, overhead);
    }

    /// <summary>
    /// A completion request is about to go to the engine: it is counted under its front, and the command gets the
    /// arrival time and the caller's trace (the current activity: ASP.NET Core's, under the client's traceparent).
    /// </summary>
    public CreateChat Asking(HttpContext http, CreateChat command)
    {
        var edge = http.Features.Get<EdgeRequest>();
        if (edge is not null)
        {
            edge.Front = OrchestratorTracing.FrontOf(command.Request);
            edge.Asked = command.Request.Model;
            // A label from the configuration: a listed id, else the pattern that serves it, else "unknown".
            edge.Model = _models.TryGetValue(command.Request.Model, out var configured) ? configured
                : settings.Resolver.EntryOf(command.Request.Model) is { } entry && _models.TryGetValue(entry, out var pattern) ? pattern
                : "unknown";
        }
        var current = Activity.Current;
        return command with
        {
            ReceivedAt = edge?.ReceivedAt ?? Stopwatch.GetTimestamp(),
            Trace = current?.Context ?? default,
            // ASP.NET Core makes an activity for every request; its trace is worth sending on only when the client
            // started it (traceparent) or someone records it.
            PropagateTrace = current is not null && (current.ParentId is not null || current.Recorded),
        };
    }

    /// <summary>The engine answered; a whole answer's timing gives its overhead header (written when the headers go).</summary>
    public static void Answered(HttpContext http, IChatReply reply)
    {
        if (http.Features.Get<EdgeRequest>() is not { } edge) return;
        switch (reply)
        {
            case ChatStreaming streaming:
                edge.Provider = streaming.Provider;
                break;
            case ChatCompleted completed:
                edge.Provider = completed.Provider;
                edge.Completion = completed.Timing;
                break;
            case ChatRejected rejected:
                edge.Refusal = rejected.Error.Code ?? rejected.Error.Type;
                break;
        }
    }

    /// <summary>
    /// What the request log line adds for a completion request: its front, the model it asked for, and who answered or
    /// why nobody did (an error code, never an upstream's message). Empty for every other request.
    /// </summary>
    public static string Summary(HttpContext http) => http.Features.Get<EdgeRequest>() is { Front: { } front } edge
        ? edge.Provider is { } provider ? $" ({front}, model '{edge.Asked}' answered by {provider})"
        : $" ({front}, model '{edge.Asked}', no route answered: {edge.Refusal ?? (http.RequestAborted.IsCancellationRequested ? "client closed" : "not answered")})"
        : "";

    /// <summary>A streamed answer starts: counted open until <see cref="StreamEnded"/>; its sink times each block on its clock.</summary>
    public static RelayClock? StreamStarted(HttpContext http, UpstreamTiming first)
    {
        if (http.Features.Get<EdgeRequest>() is not { Front: { } front } edge) return null;
        OrchestratorMetrics.StreamOpened(front);
        edge.Streaming = true;
        edge.Stream = first;
        return OrchestratorMetrics.OverheadEnabled ? new RelayClock() : null;
    }

    /// <param name="errorStatus">The error the stream ended with (sent as an event after the 200), or null when it ended whole.</param>
    public static void StreamEnded(HttpContext http, RelayClock? clock, int? errorStatus)
    {
        if (http.Features.Get<EdgeRequest>() is not { Streaming: true, Front: { } front } edge) return;
        edge.Streaming = false;
        OrchestratorMetrics.StreamClosed(front);
        edge.Status = errorStatus;
        edge.Finished = errorStatus is null && !http.RequestAborted.IsCancellationRequested;
        // A stream answered by a later attempt waited for the failed ones first: not the relay's time.
        if (clock is not null && edge.Stream.ToUpstream is { } toUpstream) edge.Overhead = toUpstream + clock.Elapsed;
    }

    private static Task StartingResponse(object state)
    {
        var http = (HttpContext)state;
        var headers = http.Response.Headers;
        // Here rather than at the start: the exception handler clears the headers of a response it rewrites.
        headers[RequestIdHeader] = http.TraceIdentifier;
        if (http.Features.Get<EdgeRequest>() is { Completion: { ToUpstream: { } toUpstream, AnsweredAt: not 0 } timing } edge)
        {
            var overhead = toUpstream + Stopwatch.GetElapsedTime(timing.AnsweredAt);
            edge.Overhead = overhead;
            edge.Finished = true;
            headers[OverheadHeader] = overhead.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
        }
        return Task.CompletedTask;
    }
}

/// <summary>One HTTP request as <see cref="EdgeTelemetry"/> sees it (a request feature); touched by that request only.</summary>
public sealed class EdgeRequest(long receivedAt)
{
    public long ReceivedAt { get; } = receivedAt;

    /// <summary>Set for completion requests only: the others are not counted.</summary>
    public string? Front { get; set; }
    public string? Model { get; set; }

    /// <summary>The model id as the request named it (Model is its bounded metrics label).</summary>
    public string? Asked { get; set; }
    public string? Provider { get; set; }

    /// <summary>Why the engine refused the request (its error code), when it did.</summary>
    public string? Refusal { get; set; }

    /// <summary>The status to count when it is not the response's (an error event inside a 200 stream).</summary>
    public int? Status { get; set; }

    /// <summary>The answer reached the client whole (a disconnect after that is not counted as one).</summary>
    public bool Finished { get; set; }

    public bool Streaming { get; set; }
    public UpstreamTiming Stream { get; set; }
    public UpstreamTiming Completion { get; set; }
    public TimeSpan? Overhead { get; set; }
}
