using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Ledger;
using Orchestrator.Http;
using Orchestrator.Messages.Ledger;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.OperatorConsole;

/// <summary>
/// One console's live feed (<c>GET /admin/console/events</c>): every <see cref="Interval"/> an <c>event: snapshot</c>
/// whose data is the whole picture as JSON (providers, counters with their last minute as series, recent failures,
/// keys), so a page that connects late or drops an event misses nothing. The numbers come from the actors that own
/// them (the front's provider report, the ledger's keys) and from <see cref="LiveCounters"/>; nothing here runs on
/// a request's path.
/// </summary>
public sealed class ConsoleFeed(IRequiredActor<HttpFrontActor> front, IRequiredActor<LedgerActor> ledger, LiveCounters counters, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);
    private const int KeysShown = 50;

    /// <summary>Writes snapshots into the response until the client goes away.</summary>
    public async Task RunAsync(HttpContext http)
    {
        using var watching = counters.Watch();
        EdgeStreams.PrepareSse(http);
        var openStreams = new Queue<int>(LiveCounters.WindowSeconds);
        using var ticks = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                byte[] snapshot;
                try
                {
                    snapshot = await BuildAsync(openStreams, http.RequestAborted);
                }
                catch (AskTimeoutException)
                {
                    continue;   // the front is too busy to report this second: the next tick asks again
                }
                var pipe = http.Response.BodyWriter;
                pipe.Write("event: snapshot\ndata: "u8);
                pipe.Write(snapshot);   // compact JSON: no line breaks, so one data line (SSE spec: a newline would end it)
                pipe.Write("\n\n"u8);
                await pipe.FlushAsync(http.RequestAborted);
            }
            while (await ticks.WaitForNextTickAsync(http.RequestAborted));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The page closed: nothing to finish.
        }
    }

    private async Task<byte[]> BuildAsync(Queue<int> openStreams, CancellationToken ct)
    {
        var report = await front.ActorRef.Ask<ProviderStatusReport>(GetProviderStatus.Instance, AskTimeout, ct);
        foreach (var p in report.Providers) counters.NoteProviderError(p.Name, p.LastError, p.LastErrorAt);
        var keys = await KeysAsync(ct);
        var live = counters.Read();
        // In flight per provider, from the actors that admit them: this host's own, whatever else runs in the process.
        var open = report.Providers.Sum(p => p.InFlightStreams);
        if (openStreams.Count == LiveCounters.WindowSeconds) openStreams.Dequeue();
        openStreams.Enqueue(open);

        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("at", Time(time.GetUtcNow()));
            json.WriteNumber("window_s", LiveCounters.WindowSeconds);
            json.WriteStartArray("providers");
            foreach (var p in report.Providers) WriteProvider(json, p);
            json.WriteEndArray();

            json.WriteStartObject("counters");
            json.WriteNumber("requests_per_s", Math.Round(live.RequestsPerSecond, 2));
            json.WriteNumber("open_streams", open);
            Number(json, "ttft_p50_ms", live.TtftP50Ms);
            Number(json, "ttft_p99_ms", live.TtftP99Ms);
            Number(json, "overhead_p50_ms", live.OverheadP50Ms);
            Number(json, "overhead_p99_ms", live.OverheadP99Ms);
            json.WriteStartObject("errors");
            foreach (var (name, count) in live.ErrorsByClass) json.WriteNumber(name, count);
            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteStartObject("series");
            Series(json, "requests", live.RequestsSeries.Select(v => (double?)v));
            Series(json, "errors", live.ErrorsSeries.Select(v => (double?)v));
            Series(json, "open_streams", openStreams.Select(v => (double?)v));
            Series(json, "ttft_p50_ms", live.TtftP50Series);
            Series(json, "overhead_p50_ms", live.OverheadP50Series);
            json.WriteEndObject();

            json.WriteStartArray("failures");
            foreach (var f in live.Failures) WriteFailure(json, f);
            json.WriteEndArray();

            if (keys is null) json.WriteNull("keys");
            else
            {
                json.WriteStartArray("keys");
                foreach (var k in keys) WriteKey(json, k);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The newest keys with their balance and spend; null when the ledger does not answer (still recovering).</summary>
    private async Task<IReadOnlyList<KeyView>?> KeysAsync(CancellationToken ct)
    {
        try
        {
            var list = await ledger.ActorRef.Ask<KeyList>(ListKeys.Instance, AskTimeout, ct);
            var replies = await Task.WhenAll(list.KeyIds.TakeLast(KeysShown).Select(id => ledger.ActorRef.Ask<object>(new GetKey(id), AskTimeout, ct)));
            return [.. replies.OfType<KeyView>()];
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    private static void WriteProvider(Utf8JsonWriter json, ProviderStatus p)
    {
        json.WriteStartObject();
        json.WriteString("name", p.Name);
        json.WriteString("kind", p.Kind);
        json.WriteString("state", p.State);
        // The breaker's own position; "parked" (a 429's Retry-After) and "degraded" are with it closed.
        json.WriteString("breaker", p.State is "open" or "half-open" ? p.State : "closed");
        if (p.Until is { } until) json.WriteString("until", Time(until));
        else json.WriteNull("until");
        json.WriteNumber("consecutive_failures", p.ConsecutiveFailures);
        if (p.LastHealthCheck is { } h)
        {
            json.WriteStartObject("health_check");
            json.WriteString("at", Time(h.At));
            json.WriteBoolean("ok", h.Ok);
            json.WriteNumber("latency_ms", Math.Round(h.LatencyMs, 1));
            json.WriteString("error", h.Error);
            json.WriteEndObject();
        }
        else json.WriteNull("health_check");
        json.WriteString("last_error", p.LastError);
        if (p.LastErrorAt is { } at) json.WriteString("last_error_at", Time(at));
        else json.WriteNull("last_error_at");
        json.WriteNumber("in_flight", p.InFlightStreams);
        json.WriteNumber("connections", p.OpenConnections);
        json.WriteNumber("requests", p.Counters.Requests);
        json.WriteNumber("failures", p.Counters.Failures);
        json.WriteEndObject();
    }

    private static void WriteFailure(Utf8JsonWriter json, LiveCounters.Failure f)
    {
        json.WriteStartObject();
        json.WriteString("at", Time(f.At));
        json.WriteString("source", f.Source);
        json.WriteString("model", f.Model);
        json.WriteString("provider", f.Provider);
        if (f.Status is { } status) json.WriteNumber("status", status);
        else json.WriteNull("status");
        json.WriteString("class", f.Class);
        json.WriteString("message", f.Message);
        json.WriteEndObject();
    }

    private static void WriteKey(Utf8JsonWriter json, KeyView k)
    {
        json.WriteStartObject();
        json.WriteString("id", k.KeyId);   // never the secret: the view has none
        json.WriteString("name", k.Name);
        json.WriteNumber("balance_usd", AdminJson.Plain(k.BalanceUsd));
        json.WriteNumber("spent_usd", AdminJson.Plain(k.SpentUsd));
        json.WriteNumber("requests", k.Requests);
        json.WriteBoolean("revoked", k.Revoked);
        json.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v) json.WriteNumber(name, Math.Round(v, 3));
        else json.WriteNull(name);
    }

    private static void Series(Utf8JsonWriter json, string name, IEnumerable<double?> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            if (value is { } v) json.WriteNumberValue(Math.Round(v, 3));
            else json.WriteNullValue();
        }
        json.WriteEndArray();
    }

    private static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
