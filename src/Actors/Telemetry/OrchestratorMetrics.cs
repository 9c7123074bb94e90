using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orchestrator.Actors.Telemetry;

/// <summary>
/// The engine's instruments (meter <c>Orchestrator</c>), named after the OpenTelemetry GenAI semantic conventions
/// where they name one and <c>orchestrator.*</c> otherwise; the host exports them as Prometheus text at
/// <c>/metrics</c> (dots become underscores, seconds get <c>_seconds</c>, counters <c>_total</c>). Every label
/// value comes from the configuration or a fixed set (a configured model id and provider name, a front, a status),
/// never from request input, so the number of series is bounded by the config.
/// <para>
/// Static like <see cref="ActivitySource"/>s: an instrument keeps no state of its own (the listener that exports it
/// does), so instruments are shared by every engine in the process, and a process with two engines reports their sum.
/// Each record is a lock-free add into the listener's aggregate: nothing here runs per streamed event.
/// </para>
/// </summary>
public static class OrchestratorMetrics
{
    public const string MeterName = "Orchestrator";

    // The GenAI semantic conventions' advised bucket boundaries.
    private static readonly double[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] FirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    // What a relay adds is counted in tens of microseconds to a few milliseconds.
    private static readonly double[] OverheadBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    private static readonly double[] HealthCheckBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram("gen_ai.client.token.usage", "{token}",
        "Tokens used per request, by token type (input, output).", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [.. TokenBuckets.Select(b => (long)b)] });

    private static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram("gen_ai.server.time_to_first_token", "s",
        "From the request's arrival to its first answer token from an upstream.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FirstTokenBuckets });

    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram("gen_ai.server.request.duration", "s",
        "A request from its arrival to its end, every retry, fallback and resume included.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    private static readonly Histogram<double> Overhead = Meter.CreateHistogram("orchestrator.overhead", "s",
        "What the relay itself added to a request: arrival to the upstream request's start, plus each upstream read to its client write.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = OverheadBuckets });

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("orchestrator.requests", null,
        "Requests answered, by model, provider, front and the status the client was given.");

    private static readonly UpDownCounter<long> ActiveStreams = Meter.CreateUpDownCounter<long>("orchestrator.active_streams", null,
        "Answer streams open to clients right now, by front.");

    private static readonly UpDownCounter<long> UpstreamConnections = Meter.CreateUpDownCounter<long>("orchestrator.upstream_connections", null,
        "Sockets open to each provider right now.");

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("orchestrator.retries", null, "Retries after a backoff, by provider.");
    private static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>("orchestrator.fallbacks", null, "Requests that left a provider for the next route, by the provider left.");
    private static readonly Counter<long> Resumes = Meter.CreateCounter<long>("orchestrator.resumes", null, "Resume steps of cut streams, by strategy and outcome.");
    private static readonly Counter<long> Rotations = Meter.CreateCounter<long>("orchestrator.rotations", null, "Upstream connections rotated at max-lifetime, by provider.");
    private static readonly Counter<long> SkippedEvents = Meter.CreateCounter<long>("orchestrator.skipped_events", null, "Malformed upstream stream events passed over, by provider.");

    private static readonly Gauge<int> CircuitState = Meter.CreateGauge<int>("orchestrator.circuit_state", null,
        "Each provider's circuit breaker: 0 closed, 1 half-open, 2 open.");

    private static readonly Histogram<double> HealthCheck = Meter.CreateHistogram("orchestrator.health_check", "s",
        "Active health check latency, by provider and outcome (ok, failed).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HealthCheckBuckets });

    // The ledger's: label values are key ids (made by an operator, never a secret) and configured model ids.
    private static readonly Counter<double> Cost = Meter.CreateCounter<double>("orchestrator.cost_usd", null,
        "USD charged to ledger keys for settled requests, by model and key id.");

    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>("orchestrator.ledger_refusals", null,
        "Requests a ledger key was refused at admission, by key id and reason (rpm, tpm, max_concurrent, balance, revoked, expired, model).");

    public static void RecordCost(string model, string keyId, decimal usd)
    {
        if (usd == 0 || !Cost.Enabled) return;
        Cost.Add((double)usd, new TagList { { "model", model }, { "key", keyId } });
    }

    public static void RecordRefusal(string keyId, string reason) =>
        Refusals.Add(1, new TagList { { "key", keyId }, { "reason", reason } });

    /// <summary>Whether anything listens (an exporter is configured); the answer stream skips its clock reads when not.</summary>
    public static bool OverheadEnabled => Overhead.Enabled;

    public static void RecordTokens(string model, string provider, long input, long output)
    {
        if (!TokenUsage.Enabled) return;
        if (input > 0) TokenUsage.Record(input, Tags(model, provider, "input"));
        if (output > 0) TokenUsage.Record(output, Tags(model, provider, "output"));
    }

    public static void RecordTimeToFirstToken(string model, string provider, TimeSpan elapsed) =>
        TimeToFirstToken.Record(elapsed.TotalSeconds, new TagList
        {
            { "gen_ai.operation.name", "chat" },
            { "gen_ai.request.model", model },
            { "gen_ai.provider.name", provider },
        });

    /// <param name="errorType">The failure class when the request failed (the GenAI conventions' <c>error.type</c>), else null.</param>
    public static void RecordRequestDuration(string model, string? provider, TimeSpan elapsed, string? errorType)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" },
            { "gen_ai.request.model", model },
            { "gen_ai.provider.name", provider ?? "none" },
        };
        if (errorType is not null) tags.Add("error.type", errorType);
        RequestDuration.Record(elapsed.TotalSeconds, tags);
    }

    public static void RecordOverhead(string model, string provider, string front, TimeSpan overhead) =>
        Overhead.Record(overhead.TotalSeconds, new TagList { { "model", model }, { "provider", provider }, { "front", front } });

    /// <param name="status">The status the client was given (an error event inside a 200 stream counts as its error's status; a client that went away, 499).</param>
    public static void CountRequest(string model, string provider, string front, int status) =>
        Requests.Add(1, new TagList { { "model", model }, { "provider", provider }, { "front", front }, { "status", StatusText(status) } });

    public static void StreamOpened(string front) => ActiveStreams.Add(1, new KeyValuePair<string, object?>("front", front));
    public static void StreamClosed(string front) => ActiveStreams.Add(-1, new KeyValuePair<string, object?>("front", front));

    public static void ConnectionOpened(string provider) => UpstreamConnections.Add(1, new KeyValuePair<string, object?>("provider", provider));
    public static void ConnectionClosed(string provider) => UpstreamConnections.Add(-1, new KeyValuePair<string, object?>("provider", provider));

    public static void CountRetry(string provider) => Retries.Add(1, new KeyValuePair<string, object?>("provider", provider));
    public static void CountFallback(string provider) => Fallbacks.Add(1, new KeyValuePair<string, object?>("provider", provider));
    public static void CountRotation(string provider) => Rotations.Add(1, new KeyValuePair<string, object?>("provider", provider));

    public static void CountSkippedEvents(string provider, long count)
    {
        if (count > 0) SkippedEvents.Add(count, new KeyValuePair<string, object?>("provider", provider));
    }

    /// <param name="strategy">prefill, replay, continue, or none (the planner refused).</param>
    /// <param name="outcome">resumed (the step streamed on), failed (it did not), refused (no resume was possible).</param>
    public static void CountResume(string strategy, string outcome) =>
        Resumes.Add(1, new KeyValuePair<string, object?>("strategy", strategy), new KeyValuePair<string, object?>("outcome", outcome));

    public static void SetCircuitState(string provider, CircuitStateValue state) =>
        CircuitState.Record((int)state, new KeyValuePair<string, object?>("provider", provider));

    public static void RecordHealthCheck(string provider, TimeSpan latency, bool ok) =>
        HealthCheck.Record(latency.TotalSeconds, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"));

    private static TagList Tags(string model, string provider, string tokenType) => new()
    {
        { "gen_ai.operation.name", "chat" },
        { "gen_ai.request.model", model },
        { "gen_ai.provider.name", provider },
        { "gen_ai.token.type", tokenType },
    };

    // Cached: a status's text is one of a handful, and boxing an int per request would allocate.
    private static readonly string[] StatusTexts = [.. Enumerable.Range(0, 600).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string StatusText(int status) => status is >= 0 and < 600 ? StatusTexts[status] : "other";
}

/// <summary>The values of <c>orchestrator_circuit_state</c>.</summary>
public enum CircuitStateValue
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}
