using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Telemetry;

/// <summary>
/// What one request's session reports: its span (the request's front span, <c>chat {model}</c>, under the client's
/// <c>traceparent</c> when it sent one), with retries, fallbacks and resumes as span events; its duration, and the
/// resume counters. Owned by the session actor and touched only in its handlers. The session calls one method per
/// thing that happened; every metric and tag decision is made here.
/// </summary>
public sealed class SessionTelemetry
{
    private readonly string _model;
    private readonly long _startedAt;
    private readonly ActivityContext _parent;
    private string? _provider;
    private string? _errorType;
    private bool _ended;

    /// <param name="model">The configured model id (never the request's own text: the catalog resolved it).</param>
    public SessionTelemetry(CreateChat command, string model)
    {
        _model = model;
        _startedAt = command.ReceivedAt != 0 ? command.ReceivedAt : Stopwatch.GetTimestamp();
        _parent = command.Trace;
        Span = OrchestratorTracing.Start("chat " + model, ActivityKind.Server, command.Trace);
        if (Span is { IsAllDataRequested: true } span)
        {
            span.SetTag("gen_ai.operation.name", "chat");
            span.SetTag("gen_ai.request.model", model);
            span.SetTag("orchestrator.request_id", command.RequestId);
            span.SetTag("orchestrator.front", OrchestratorTracing.FrontOf(command.Request));
            span.SetTag("gen_ai.request.stream", command.Request.Stream);
        }
    }

    /// <summary>
    /// An actor's logger whose every line carries the request's <c>TraceId</c> (beside the <c>RequestId</c> its
    /// messages name), so a log search finds the trace and the other way round.
    /// </summary>
    public static ILoggingAdapter Logger(IActorContext context, ActivityContext trace) =>
        trace == default
            ? context.GetLogger()
            : context.GetLogger().WithContext("TraceId", trace.TraceId.ToHexString());

    /// <summary>The request's span; null when nobody records traces.</summary>
    public Activity? Span { get; }

    /// <summary>The parent of each attempt's span, and what goes upstream as <c>traceparent</c>.</summary>
    public ActivityContext Trace => Span?.Context ?? _parent;

    /// <summary>The session told a provider of a retry, fallback or resume (the provider counts it; the span shows it).</summary>
    public void Noted(string provider, RoutingEvent routingEvent) =>
        Span?.AddEvent(new ActivityEvent(routingEvent switch
        {
            RoutingEvent.Retry => "retry",
            RoutingEvent.Fallback => "fallback",
            _ => "resume",
        }, tags: new ActivityTagsCollection { ["gen_ai.provider.name"] = provider }));

    /// <param name="strategy">The resume strategy, lower case; null when the planner refused to resume.</param>
    /// <param name="outcome">resumed, failed or refused.</param>
    public void Resume(string? strategy, string outcome)
    {
        OrchestratorMetrics.CountResume(strategy ?? "none", outcome);
        Span?.AddEvent(new ActivityEvent("resume." + outcome, tags: new ActivityTagsCollection { ["orchestrator.resume.strategy"] = strategy ?? "none" }));
    }

    /// <summary>
    /// An attempt on <paramref name="provider"/> answers. A whole answer's usage and model are read from its body; a
    /// stream gets a <see cref="StreamTelemetry"/> for its transcript (time to the first token).
    /// </summary>
    public StreamTelemetry? Answering(string provider, ReadOnlyMemory<byte> completion = default)
    {
        _provider = provider;
        Span?.SetTag("gen_ai.provider.name", provider);
        if (completion.IsEmpty) return new StreamTelemetry(_model, provider, _startedAt);
        if (CompletionFacts.TryRead(completion.Span, out var facts))
        {
            Usage(facts.InputTokens, facts.OutputTokens);
            if (facts.Model is { } responseModel) Span?.SetTag("gen_ai.response.model", responseModel);
        }
        return null;
    }

    /// <summary>
    /// The tokens the request used, as its provider reported them. A whole answer's are read in <see cref="Answering"/>;
    /// TODO(ledger): a stream's come from its usage chunk, which the ledger reads for billing: call this from there.
    /// </summary>
    public void Usage(long input, long output)
    {
        OrchestratorMetrics.RecordTokens(_model, _provider ?? "none", input, output);
        if (Span is not { } span) return;
        span.SetTag("gen_ai.usage.input_tokens", input);
        span.SetTag("gen_ai.usage.output_tokens", output);
    }

    /// <summary>The request ends with <paramref name="error"/> (given up on, timed out); its status is the <c>error.type</c>.</summary>
    public void Failed(ApiError error)
    {
        _errorType = ErrorType(error.Status);
        OrchestratorTracing.SetError(Span, _errorType, error.Code ?? error.Type);
    }

    /// <summary>The caller went away before the end.</summary>
    public void Cancelled()
    {
        _errorType ??= "cancelled";
        OrchestratorTracing.SetError(Span, _errorType);
    }

    /// <summary>The session stopped: the duration is recorded and the span ends (once).</summary>
    public void Ended()
    {
        if (_ended) return;
        _ended = true;
        OrchestratorMetrics.RecordRequestDuration(_model, _provider, Stopwatch.GetElapsedTime(_startedAt), _errorType);
        OrchestratorTracing.Stop(Span);
    }

    private static readonly string[] StatusTypes = [.. Enumerable.Range(0, 600).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string ErrorType(int status) => status is >= 0 and < 600 ? StatusTypes[status] : "other";
}

/// <summary>
/// What the answer stream reports for its request: the time to the first token. Written by the stream's stage only
/// (one thread at a time), so it needs no lock.
/// </summary>
public sealed class StreamTelemetry(string model, string provider, long startedAt)
{
    private bool _firstToken;

    public void FirstToken()
    {
        if (_firstToken) return;
        _firstToken = true;
        OrchestratorMetrics.RecordTimeToFirstToken(model, provider, Stopwatch.GetElapsedTime(startedAt));
    }
}
