using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Http;

/// <summary>
/// What requests cost: <c>GET /admin/usage</c> (every key's or one's, JSON or CSV) from the usage table, never a journal
/// replay; and <c>GET /v1/usage</c>, a client key's own balance and last requests.
/// </summary>
public static class UsageEndpoints
{
    private const int DefaultLimit = 1000;
    private const int MaxLimit = 100_000;
    private const int OwnRecent = 20;

    /// <summary>The record's fields, in order: the JSON names and the CSV header alike.</summary>
    public static readonly string[] Fields =
    [
        "request_id", "key_id", "model", "provider", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens",
        "cost_usd", "status", "finish_reason", "usage_estimated", "started_at", "ended_at", "ttft_ms",
    ];

    public static RouteGroupBuilder MapAdminUsageEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/usage", AdminUsageAsync);
        return admin;
    }

    public static IEndpointRouteBuilder MapUsageEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/usage", OwnUsageAsync).AddEndpointFilter<ClientKeyFilter>();
        return endpoints;
    }

    private static async Task AdminUsageAsync(HttpContext http, ILedgerStore store)
    {
        var query = http.Request.Query;
        var error = AdminKeyEndpoints.First(
            TimeParameter(query["since"], "since", out var since),
            TimeParameter(query["until"], "until", out var until),
            LimitParameter(query["limit"], out var limit));
        var format = query["format"].ToString();
        if (error is null && format is not ("" or "json" or "csv"))
            error = ApiError.InvalidRequest($"'format' must be json or csv, not '{ApiError.Quote(format)}'.", "format");
        if (error is not null)
        {
            await OpenAiErrors.WriteAsync(http.Response, error);
            return;
        }
        var key = query["key"].ToString();
        var records = await store.QueryUsageAsync(new UsageQuery(key.Length == 0 ? null : key, since, until, limit), http.RequestAborted);
        if (format == "csv") await WriteCsvAsync(http, records);
        else await AdminJson.WriteAsync(http, json => WriteList(json, records));
    }

    private static async Task OwnUsageAsync(HttpContext http, IRequiredActor<LedgerActor> ledger, ILedgerStore store)
    {
        if (ClientKeyFilter.KeyId(http) is not { } keyId)
        {
            await OpenAiErrors.WriteAsync(http.Response, ApiError.InvalidRequest(
                "This key is one of the service's configured keys: it is not billed, so it has no balance or usage. Ledger keys (sk-orc-...) do.", null, "not_billed"));
            return;
        }
        var view = await ledger.ActorRef.Ask<object>(new GetKey(keyId), TimeSpan.FromSeconds(10), http.RequestAborted);
        var recent = await store.QueryUsageAsync(new UsageQuery(keyId, DateTimeOffset.UtcNow.AddDays(-30), null, MaxLimit), http.RequestAborted);
        await AdminJson.WriteAsync(http, json =>
        {
            json.WriteStartObject();
            json.WriteString("object", "usage");
            if (view is KeyView key)
            {
                json.WriteString("key_id", key.KeyId);
                json.WriteString("name", key.Name);
                json.WriteNumber("balance_usd", AdminJson.Plain(key.BalanceUsd));
                json.WriteNumber("spent_usd", AdminJson.Plain(key.SpentUsd));
                json.WriteNumber("reserved_usd", AdminJson.Plain(key.ReservedUsd));
                json.WriteNumber("requests", key.Requests);
            }
            json.WriteStartArray("data");
            foreach (var record in recent.TakeLast(OwnRecent).Reverse()) Write(json, record);
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static void WriteList(Utf8JsonWriter json, IReadOnlyList<UsageRecord> records)
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var record in records) Write(json, record);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void Write(Utf8JsonWriter json, UsageRecord r)
    {
        json.WriteStartObject();
        json.WriteString("request_id", r.RequestId);
        json.WriteString("key_id", r.KeyId);
        json.WriteString("model", r.Model);
        json.WriteString("provider", r.Provider);
        json.WriteNumber("input_tokens", r.InputTokens);
        json.WriteNumber("cached_input_tokens", r.CachedInputTokens);
        json.WriteNumber("output_tokens", r.OutputTokens);
        json.WriteNumber("reasoning_tokens", r.ReasoningTokens);
        json.WriteNumber("cost_usd", AdminJson.Plain(r.CostUsd));
        json.WriteNumber("status", r.Status);
        if (r.FinishReason is { } reason) json.WriteString("finish_reason", reason);
        else json.WriteNull("finish_reason");
        json.WriteBoolean("usage_estimated", r.UsageEstimated);
        json.WriteString("started_at", AdminJson.Format(r.StartedAt));
        json.WriteString("ended_at", AdminJson.Format(r.EndedAt));
        if (r.TtftMs is { } ttft) json.WriteNumber("ttft_ms", ttft);
        else json.WriteNull("ttft_ms");
        json.WriteEndObject();
    }

    private static async Task WriteCsvAsync(HttpContext http, IReadOnlyList<UsageRecord> records)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Fields).Append("\r\n");
        foreach (var r in records)
        {
            csv.AppendJoin(',',
                CsvField(r.RequestId), CsvField(r.KeyId), CsvField(r.Model), CsvField(r.Provider),
                Number(r.InputTokens), Number(r.CachedInputTokens), Number(r.OutputTokens), Number(r.ReasoningTokens),
                AdminJson.Plain(r.CostUsd).ToString(CultureInfo.InvariantCulture), Number(r.Status), CsvField(r.FinishReason ?? ""),
                r.UsageEstimated ? "true" : "false", AdminJson.Format(r.StartedAt), AdminJson.Format(r.EndedAt),
                r.TtftMs?.ToString(CultureInfo.InvariantCulture) ?? "").Append("\r\n");
        }
        http.Response.ContentType = "text/csv; charset=utf-8";
        await http.Response.WriteAsync(csv.ToString(), http.RequestAborted);
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// RFC 4180: quoted when it holds a comma, quote or line break. A field a spreadsheet would read as a formula is
    /// defused with a leading apostrophe: one that begins with = + - @, TAB or CR (OWASP's list), also after leading
    /// spaces (spreadsheets skip them).
    /// </summary>
    public static string CsvField(string value)
    {
        var start = value.AsSpan().TrimStart(' ');
        if (start.Length > 0 && "=+-@\t\r".Contains(start[0])) value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
    }

    private static ApiError? TimeParameter(string? raw, string name, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrEmpty(raw)) return null;
        if (!AdminJson.TryParseTime(raw, out var value))
            return ApiError.InvalidRequest($"'{name}' must be an ISO-8601 time such as 2026-12-01T00:00:00Z.", name);
        time = value;
        return null;
    }

    private static ApiError? LimitParameter(string? raw, out int limit)
    {
        limit = DefaultLimit;
        if (string.IsNullOrEmpty(raw)) return null;
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit)
            return ApiError.InvalidRequest($"'limit' must be a whole number from 1 to {MaxLimit}.", "limit");
        return null;
    }
}
