using System.Diagnostics;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Telemetry;

/// <summary>
/// One upstream attempt's span (<c>chat {upstream model}</c>, a client span under the request's) and its timing. The
/// span, or when nobody records spans but the client sent a trace, a bare activity of that trace, is current
/// while the attempt's HTTP request starts: .NET's HTTP client (SocketsHttpHandler's diagnostics handler) then starts
/// its own span under it and writes that span's W3C <c>traceparent</c> header itself, so the relay never adds one.
/// </summary>
public struct AttemptTelemetry
{
    private Activity? _activity;
    private bool _recorded;
    private int _attempt;
    private long _sentAt;
    private TimeSpan? _toUpstream;

    public static AttemptTelemetry Start(StartAttempt attempt)
    {
        var telemetry = new AttemptTelemetry { _attempt = attempt.Attempt, _sentAt = Stopwatch.GetTimestamp() };
        if (attempt.Attempt == 0 && attempt.ReceivedAt != 0) telemetry._toUpstream = Stopwatch.GetElapsedTime(attempt.ReceivedAt, telemetry._sentAt);
        var span = OrchestratorTracing.Start("chat " + attempt.Route.UpstreamModel, ActivityKind.Client, attempt.Trace);
        if (span is not null)
        {
            telemetry._recorded = true;
            if (span.IsAllDataRequested)
            {
                span.SetTag("gen_ai.operation.name", "chat");
                span.SetTag("gen_ai.request.model", attempt.Route.UpstreamModel);
                span.SetTag("gen_ai.provider.name", attempt.Route.Provider);
                span.SetTag("orchestrator.attempt", attempt.Attempt);
                if (attempt.Panic) span.SetTag("orchestrator.panic", true);
            }
        }
        else if (attempt.PropagateTrace && attempt.Trace != default)
        {
            // Nobody records spans, but the client's trace still goes on upstream.
            span = new Activity("orchestrator.upstream");
            span.SetParentId(attempt.Trace.TraceId, attempt.Trace.SpanId, attempt.Trace.TraceFlags);
            var previous = Activity.Current;
            span.Start();
            Activity.Current = previous;
        }
        telemetry._activity = span;
        return telemetry;
    }

    /// <summary>Makes the attempt's activity current until disposed.</summary>
    public readonly Scope MakeCurrent()
    {
        var previous = Activity.Current;
        if (_activity is not null) Activity.Current = _activity;
        return new Scope(previous);
    }

    public readonly UpstreamTiming Timing(bool answered) =>
        new(_attempt, _sentAt, answered ? Stopwatch.GetTimestamp() : 0, _toUpstream);

    public readonly void Succeeded(ReadOnlyMemory<byte> completion)
    {
        if (!_recorded || _activity is not { IsAllDataRequested: true } span) return;
        if (CompletionFacts.TryRead(completion.Span, out var facts))
        {
            if (facts.Model is { } model) span.SetTag("gen_ai.response.model", model);
            span.SetTag("gen_ai.usage.input_tokens", facts.InputTokens);
            span.SetTag("gen_ai.usage.output_tokens", facts.OutputTokens);
        }
    }

    /// <summary>The GenAI conventions' <c>error.type</c> is the failure class (transport, timeout, rate_limited...).</summary>
    public readonly void Failed(UpstreamFailure failure)
    {
        if (!_recorded) return;
        OrchestratorTracing.SetError(_activity, FailureKindName(failure.Kind), failure.Status is { } status ? $"HTTP {status}" : null);
    }

    public void Stop()
    {
        OrchestratorTracing.Stop(_activity);
        _activity = null;
    }

    private static string FailureKindName(FailureKind kind) => kind switch
    {
        FailureKind.Transport => "transport",
        FailureKind.Timeout => "timeout",
        FailureKind.RateLimited => "rate_limited",
        FailureKind.ServerError => "server_error",
        FailureKind.Unauthorized => "unauthorized",
        FailureKind.ModelNotFound => "model_not_found",
        FailureKind.CallerFault => "caller_fault",
        FailureKind.Protocol => "protocol",
        FailureKind.Truncated => "truncated",
        FailureKind.Unavailable => "unavailable",
        _ => "internal",
    };

    public readonly struct Scope(Activity? previous) : IDisposable
    {
        public void Dispose() => Activity.Current = previous;
    }
}
