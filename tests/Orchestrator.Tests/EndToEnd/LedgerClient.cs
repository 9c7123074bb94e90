using System.Net;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// The ledger as an operator and a customer see it, over HTTP: the admin API (keys, credit, usage) with the admin
/// key, and streamed chat requests with a client key, read to the end with their usage when the client asked.
/// </summary>
internal sealed class LedgerClient(Uri baseUrl, string adminKey) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };

    public sealed record CreatedKey(string Id, string Secret, JsonElement Body);

    /// <summary>A streamed answer as its client saw it: the status, the whole body, and the usage chunk if one came.</summary>
    public sealed record Answer(HttpStatusCode Status, string RequestId, string Body, long? PromptTokens, long? CompletionTokens)
    {
        public bool Complete => Status == HttpStatusCode.OK && Body.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal);
    }

    public async Task<CreatedKey> CreateKeyAsync(string json)
    {
        using var response = await SendAsync(HttpMethod.Post, "/admin/keys", json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /admin/keys: {(int)response.StatusCode} {text}");
        var body = JsonDocument.Parse(text).RootElement.Clone();
        return new CreatedKey(body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!, body);
    }

    public async Task<JsonElement> GetKeyAsync(string id) => await JsonAsync(HttpMethod.Get, $"/admin/keys/{id}", null);

    public async Task<JsonElement> CreditAsync(string id, decimal amount, string note) =>
        await JsonAsync(HttpMethod.Post, $"/admin/keys/{id}/credit", $$"""{"amount_usd":{{amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"note":"{{note}}"}""");

    public async Task<JsonElement> RevokeAsync(string id) => await JsonAsync(HttpMethod.Delete, $"/admin/keys/{id}", null);

    public async Task<JsonElement> ChangeAsync(string id, string json) => await JsonAsync(HttpMethod.Patch, $"/admin/keys/{id}", json);

    /// <summary>The key's usage records (JSON), by request id.</summary>
    public async Task<IReadOnlyDictionary<string, JsonElement>> UsageAsync(string keyId)
    {
        var list = await JsonAsync(HttpMethod.Get, $"/admin/usage?key={keyId}&limit=100000", null);
        var records = list.GetProperty("data").EnumerateArray().ToList();
        var byId = records.ToDictionary(r => r.GetProperty("request_id").GetString()!);
        Assert.Equal(records.Count, byId.Count);   // one record per request, never two
        return byId;
    }

    public async Task<string> RawAsync(string pathAndQuery)
    {
        using var response = await SendAsync(HttpMethod.Get, pathAndQuery, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    public async Task<JsonElement> JsonAsync(HttpMethod method, string path, string? json)
    {
        using var response = await SendAsync(method, path, json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", adminKey);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return _http.SendAsync(request);
    }

    /// <summary>A chat request with <paramref name="clientKey"/>; a stream is read to its end.</summary>
    public static async Task<Answer> ChatAsync(HttpClient client, string clientKey, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", clientKey);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();
        var requestId = response.Headers.TryGetValues("x-request-id", out var ids) ? ids.First() : "";
        long? prompt = null, completion = null;
        if (response.StatusCode == HttpStatusCode.OK && text.StartsWith("data: ", StringComparison.Ordinal))
        {
            foreach (var line in Sse.DataLines(text).Where(l => l != "[DONE]"))
            {
                using var chunk = JsonDocument.Parse(line);
                if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    prompt = usage.GetProperty("prompt_tokens").GetInt64();
                    completion = usage.GetProperty("completion_tokens").GetInt64();
                }
            }
        }
        return new Answer(response.StatusCode, requestId, text, prompt, completion);
    }

    /// <summary>A streamed chat body.</summary>
    public static string StreamBody(string model, bool includeUsage, int? maxTokens = null, int? n = null, string content = "hi") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model,
            ["stream"] = true,
            ["stream_options"] = includeUsage ? new Dictionary<string, object> { ["include_usage"] = true } : null,
            ["max_tokens"] = maxTokens,
            ["n"] = n,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = content } },
        }.Where(p => p.Value is not null).ToDictionary());

    /// <summary>The <c>error</c> object of an error body.</summary>
    public static JsonElement ErrorOf(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").Clone();

    public void Dispose() => _http.Dispose();
}
