using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Telemetry;

namespace Orchestrator.OperatorConsole;

/// <summary>
/// The console's live numbers over the last <see cref="WindowSeconds"/> seconds, in one-second buckets: requests,
/// errors by class, time to first token and the relay's overhead, read from the <see cref="OrchestratorMetrics"/>
/// instruments with a <see cref="MeterListener"/>. It listens only while a console is open (<see cref="Watch"/>),
/// so a relay nobody watches pays nothing; while one is, each request costs a few more adds under a lock (the
/// measurements are per request, never per streamed event).
/// <para>
/// The instruments are static, shared by every host in the process; a measurement counts here only when its model
/// and provider are this host's own (or the edge's <c>unknown</c> and <c>none</c>), so hosts with different
/// configurations in one process (the tests) do not see each other's traffic.
/// </para>
/// </summary>
public sealed class LiveCounters : IDisposable
{
    public const int WindowSeconds = 60;
    private const int SamplesPerSecond = 256;   // the percentiles' sample cap: enough for a p99 at a few hundred req/s
    private const int FailuresKept = 20;

    private enum Measured { Requests, TimeToFirstToken, Overhead }

    private readonly FrozenSet<string> _models;
    private readonly FrozenSet<string> _providers;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Bucket[] _buckets = new Bucket[WindowSeconds];
    private readonly LinkedList<Failure> _failures = new();
    private readonly Dictionary<string, DateTimeOffset> _providerErrorsSeen = new(StringComparer.Ordinal);
    private MeterListener? _listener;
    private int _watchers;

    public LiveCounters(OrchestratorSettings settings, TimeProvider time)
    {
        _models = settings.Resolver.Labels.Append("unknown").ToFrozenSet(StringComparer.Ordinal);
        _providers = settings.Providers.Keys.Append("none").ToFrozenSet(StringComparer.Ordinal);
        _time = time;
        for (var i = 0; i < _buckets.Length; i++) _buckets[i] = new Bucket();
    }

    /// <summary>A console opened: measurements are collected until the last one open is disposed.</summary>
    public IDisposable Watch()
    {
        lock (_gate)
        {
            if (_watchers++ == 0) _listener = StartListening();
        }
        return new Watcher(this);
    }

    /// <summary>A failure the console lists, from a request's status or a provider's last error.</summary>
    public sealed record Failure(DateTimeOffset At, string Source, string Model, string Provider, int? Status, string Class, string? Message);

    /// <summary>The window as the console shows it: series are oldest first, one value a second, the current second excluded.</summary>
    public sealed record Snapshot(
        double RequestsPerSecond,
        double? TtftP50Ms, double? TtftP99Ms, double? OverheadP50Ms, double? OverheadP99Ms,
        IReadOnlyList<KeyValuePair<string, int>> ErrorsByClass,
        IReadOnlyList<int> RequestsSeries, IReadOnlyList<int> ErrorsSeries,
        IReadOnlyList<double?> TtftP50Series, IReadOnlyList<double?> OverheadP50Series,
        IReadOnlyList<Failure> Failures);

    public Snapshot Read()
    {
        lock (_gate)
        {
            var now = Second();
            var requests = new List<int>(WindowSeconds);
            var errors = new List<int>(WindowSeconds);
            var ttftSeries = new List<double?>(WindowSeconds);
            var overheadSeries = new List<double?>(WindowSeconds);
            var ttft = new List<double>();
            var overhead = new List<double>();
            var byClass = new Dictionary<string, int>(StringComparer.Ordinal);
            var recent = 0;
            for (var second = now - WindowSeconds + 1; second < now; second++)
            {
                var bucket = _buckets[Index(second)];
                var live = bucket.Second == second;
                requests.Add(live ? bucket.Requests : 0);
                errors.Add(live ? bucket.Errors.Values.Sum() : 0);
                ttftSeries.Add(live ? Percentile(bucket.Ttft, 0.5) : null);
                overheadSeries.Add(live ? Percentile(bucket.Overhead, 0.5) : null);
                if (!live) continue;
                if (second >= now - 10) recent += bucket.Requests;
                ttft.AddRange(bucket.Ttft);
                overhead.AddRange(bucket.Overhead);
                foreach (var (name, count) in bucket.Errors) byClass[name] = byClass.GetValueOrDefault(name) + count;
            }
            return new Snapshot(recent / 10.0,
                Percentile(ttft, 0.5), Percentile(ttft, 0.99), Percentile(overhead, 0.5), Percentile(overhead, 0.99),
                [.. byClass.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)],
                requests, errors, ttftSeries, overheadSeries, [.. _failures]);
        }
    }

    /// <summary>
    /// A provider's last error, as its status report shows it: listed once per error (by its time), so the failures
    /// that a retry or fallback hid from the client are seen too.
    /// </summary>
    public void NoteProviderError(string provider, string? error, DateTimeOffset? at)
    {
        if (error is null || at is not { } when) return;
        lock (_gate)
        {
            if (_providerErrorsSeen.TryGetValue(provider, out var seen) && seen >= when) return;
            _providerErrorsSeen[provider] = when;
            AddFailure(new Failure(when, "provider", "", provider, ErrorClasses.StatusIn(error), ErrorClasses.OfProviderError(error), error));
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _listener?.Dispose();
            _listener = null;
        }
    }

    private void Unwatch()
    {
        lock (_gate)
        {
            if (--_watchers > 0) return;
            _listener?.Dispose();
            _listener = null;
        }
    }

    private MeterListener StartListening()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name != OrchestratorMetrics.MeterName) return;
                Measured? what = instrument.Name switch
                {
                    "orchestrator.requests" => Measured.Requests,
                    "gen_ai.server.time_to_first_token" => Measured.TimeToFirstToken,
                    "orchestrator.overhead" => Measured.Overhead,
                    _ => null,
                };
                if (what is { } measured) l.EnableMeasurementEvents(instrument, measured);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, state) => OnMeasurement((Measured)state!, value, tags));
        listener.SetMeasurementEventCallback<double>((_, value, tags, state) => OnMeasurement((Measured)state!, value, tags));
        listener.Start();
        return listener;
    }

    private void OnMeasurement(Measured what, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? model = null, provider = null, status = null;
        foreach (var (key, tagValue) in tags)
        {
            switch (key)
            {
                case "model" or "gen_ai.request.model": model = tagValue as string; break;
                case "provider" or "gen_ai.provider.name": provider = tagValue as string; break;
                case "status": status = tagValue as string; break;
            }
        }
        if (model is null || provider is null || !_models.Contains(model) || !_providers.Contains(provider)) return;
        lock (_gate)
        {
            var bucket = Current();
            switch (what)
            {
                case Measured.Requests:
                    bucket.Requests += (int)value;
                    if (!int.TryParse(status, out var code) || code < 400) break;
                    var errorClass = ErrorClasses.OfStatus(code);
                    bucket.Errors[errorClass] = bucket.Errors.GetValueOrDefault(errorClass) + 1;
                    AddFailure(new Failure(_time.GetUtcNow(), "request", model, provider, code, errorClass, null));
                    break;
                case Measured.TimeToFirstToken:
                    if (bucket.Ttft.Count < SamplesPerSecond) bucket.Ttft.Add(value * 1000);
                    break;
                case Measured.Overhead:
                    if (bucket.Overhead.Count < SamplesPerSecond) bucket.Overhead.Add(value * 1000);
                    break;
            }
        }
    }

    private void AddFailure(Failure failure)
    {
        _failures.AddFirst(failure);
        if (_failures.Count > FailuresKept) _failures.RemoveLast();
    }

    private Bucket Current()
    {
        var second = Second();
        var bucket = _buckets[Index(second)];
        if (bucket.Second != second) bucket.Reset(second);
        return bucket;
    }

    private long Second() => _time.GetUtcNow().ToUnixTimeSeconds();

    private static int Index(long second) => (int)(((second % WindowSeconds) + WindowSeconds) % WindowSeconds);

    private static double? Percentile(List<double> samples, double p)
    {
        if (samples.Count == 0) return null;
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        return sorted[(int)Math.Clamp(Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private sealed class Bucket
    {
        public long Second = -1;
        public int Requests;
        public readonly Dictionary<string, int> Errors = new(StringComparer.Ordinal);
        public readonly List<double> Ttft = [];
        public readonly List<double> Overhead = [];

        public void Reset(long second)
        {
            Second = second;
            Requests = 0;
            Errors.Clear();
            Ttft.Clear();
            Overhead.Clear();
        }
    }

    private sealed class Watcher(LiveCounters counters) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) counters.Unwatch();
        }
    }
}
