using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Bench.Soak;

/// <summary>What one client does with one request.</summary>
public enum Behaviour
{
    Stream,
    StreamWithUsage,
    NonStream,
    SlowReader,
    Abort,
    BadInput,
}

/// <summary>
/// One client request against the relay and the verdict on how it ended. An answer the relay presents as a success
/// (<c>[DONE]</c>, a finish_reason, a 200 completion) must carry exactly <see cref="SoakAnswer.Text"/> for its
/// marker, resumed or not; anything else must be a clean error: an OpenAI-shaped error body with a 4xx/5xx status,
/// or an <c>error</c> event that ends the stream without <c>[DONE]</c>. Bad input must be refused with a 4xx.
/// </summary>
public sealed class SoakClient(HttpClient http, Uri relay, string key, TimeSpan deadline)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static long _nextSeed = Random.Shared.NextInt64(1, 1L << 40);

    private static readonly (Behaviour Behaviour, int Weight)[] Mix =
    [
        (Behaviour.Stream, 40), (Behaviour.StreamWithUsage, 15), (Behaviour.NonStream, 10), (Behaviour.SlowReader, 10),
        (Behaviour.Abort, 15), (Behaviour.BadInput, 10),
    ];

    public static HttpClient CreateHttpClient() => LoadClient.Create(TimeSpan.FromSeconds(30));

    public static Behaviour Draw()
    {
        var pick = Random.Shared.Next(Mix.Sum(m => m.Weight));
        foreach (var (behaviour, weight) in Mix)
        {
            if (pick < weight) return behaviour;
            pick -= weight;
        }

        return Behaviour.Stream;
    }

    /// <summary>Runs one request and records its outcome in <paramref name="tally"/>.</summary>
    public async Task RunAsync(Behaviour behaviour, Tally tally)
    {
        var seed = Interlocked.Increment(ref _nextSeed);
        var count = Random.Shared.Next(8, 41);
        var model = Random.Shared.Next(2) == 0 ? "soak" : "soak-b";
        using var hung = new CancellationTokenSource(deadline);
        using var abort = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hung.Token, abort.Token);
        if (behaviour == Behaviour.Abort) abort.CancelAfter(Random.Shared.Next(0, 2500));
        try
        {
            var (kind, detail) = behaviour == Behaviour.BadInput
                ? await BadInputAsync(linked.Token)
                : await ChatAsync(behaviour, model, seed, count, linked.Token);
            tally.Add(kind, detail);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            tally.Add("client aborted");
        }
        catch (OperationCanceledException) when (hung.IsCancellationRequested)
        {
            tally.Add(Tally.FailPrefix + "no end within " + deadline.TotalSeconds + " s", $"{behaviour} seed {seed}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            tally.Add(Tally.FailPrefix + "transport error from the relay", $"{behaviour} seed {seed}: {e.GetType().Name} {e.Message}");
        }
    }

    private async Task<(string, string?)> ChatAsync(Behaviour behaviour, string model, long seed, int count, CancellationToken ct)
    {
        var stream = behaviour != Behaviour.NonStream;
        var body = $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},{{(behaviour == Behaviour.StreamWithUsage ? "\"stream_options\":{\"include_usage\":true}," : "")}}"messages":[{"role":"user","content":"{{SoakAnswer.Marker(seed, count)}}"}]}""";
        using var request = Post(Encoding.UTF8.GetBytes(body), withKey: true);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var expected = SoakAnswer.Text(seed, count);
        if (response.StatusCode != HttpStatusCode.OK) return await ErrorBodyAsync(response, ct);
        await using var content = await response.Content.ReadAsStreamAsync(ct);
        if (!stream) return await CompletionAsync(content, expected, ct);
        return await StreamAsync(content, expected, behaviour == Behaviour.SlowReader, ct);
    }

    private static async Task<(string, string?)> CompletionAsync(Stream content, string expected, CancellationToken ct)
    {
        using var doc = await JsonDocument.ParseAsync(content, cancellationToken: ct);
        var choice = doc.RootElement.GetProperty("choices")[0];
        var text = choice.GetProperty("message").GetProperty("content").GetString();
        if (text == expected && choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String) return ("complete (non-stream)", null);
        return (Tally.FailPrefix + "wrong or truncated completion presented as success", $"got {text?.Length} chars, expected {expected.Length}");
    }

    private static async Task<(string, string?)> StreamAsync(Stream content, string expected, bool slow, CancellationToken ct)
    {
        var answer = new StringBuilder();
        bool done = false, finish = false, error = false, resumed = false;
        var buffer = new byte[slow ? 256 : 16384];
        var line = new MemoryStream();
        int read;
        while ((read = await content.ReadAsync(buffer, ct)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') { line.WriteByte(buffer[i]); continue; }
                var verdict = OnLine(Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length));
                line.SetLength(0);
                if (verdict is not null) return (Tally.FailPrefix + verdict, null);
            }

            if (slow) await Task.Delay(Random.Shared.Next(20, 80), ct);
        }

        if (error) return (done || finish) ? (Tally.FailPrefix + "error event in an answer that also finished", null) : ("clean error: error event, no [DONE]", null);
        if (done || finish)
        {
            if (answer.ToString() == expected) return (resumed ? "complete, resumed" : "complete", null);
            return (Tally.FailPrefix + "truncated or wrong answer presented as success",
                $"done={done} finish={finish} got {answer.Length} chars, expected {expected.Length}: '{Tail(answer.ToString())}' vs '{Tail(expected)}'");
        }

        return (Tally.FailPrefix + "stream ended with neither [DONE] nor an error event", $"got {answer.Length} of {expected.Length} chars");

        string? OnLine(string text)
        {
            if (!text.StartsWith("data:", StringComparison.Ordinal)) return null;   // blank lines, comments (keep-alive)
            var payload = text[5..].TrimStart(' ').TrimEnd('\r');
            if (done) return "data after [DONE]";
            if (payload == "[DONE]") { done = true; return null; }
            JsonDocument doc;
            try { doc = JsonDocument.Parse(payload); }
            catch (JsonException) { return "malformed event from the relay"; }
            using var parsed = doc;
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out _)) { error = true; return null; }
            if (payload.Contains("\"resumed\"", StringComparison.Ordinal)) resumed = true;
            if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                {
                    if (finish) return "content after finish_reason";
                    answer.Append(c.GetString());
                }

                if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = true;
            }

            return null;
        }
    }

    private static string Tail(string s) => s.Length <= 24 ? s : "…" + s[^24..];

    private static async Task<(string, string?)> ErrorBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var error = doc.RootElement.GetProperty("error");
            if (status >= 400 && error.GetProperty("message").ValueKind == JsonValueKind.String && error.GetProperty("type").ValueKind == JsonValueKind.String)
                return ($"clean error: HTTP {status}", null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
        }

        return (Tally.FailPrefix + $"error not OpenAI-shaped (HTTP {status})", text.Length > 200 ? text[..200] : text);
    }

    private static readonly (string Name, byte[] Body, bool WithKey)[] BadInputs =
    [
        ("invalid JSON", "{not json"u8.ToArray(), true),
        ("body cut mid-string", """{"model":"soak","messages":[{"role":"user","content":"hi"""u8.ToArray(), true),
        ("messages not an array", """{"model":"soak","messages":"hi"}"""u8.ToArray(), true),
        ("300-character model", Encoding.UTF8.GetBytes($$"""{"model":"{{new string('m', 300)}}","messages":[{"role":"user","content":"hi"}]}"""), true),
        ("unknown model", """{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray(), true),
        ("n as a string", """{"model":"soak","n":"x","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray(), true),
        ("invalid UTF-8 in a string", [.. """{"model":"soak","messages":[{"role":"user","content":"""u8, 0x22, 0xC3, 0x28, 0x22, .. "}]}"u8], true),
        ("no key", """{"model":"soak","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray(), false),
    ];

    private async Task<(string, string?)> BadInputAsync(CancellationToken ct)
    {
        var (name, body, withKey) = BadInputs[Random.Shared.Next(BadInputs.Length)];
        using var request = Post(body, withKey);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var status = (int)response.StatusCode;
        if (status is < 400 or >= 500) return (Tally.FailPrefix + $"bad input not refused with a 4xx (HTTP {status})", name);
        var (kind, detail) = await ErrorBodyAsync(response, ct);
        return kind.StartsWith(Tally.FailPrefix, StringComparison.Ordinal) ? (kind, name + ": " + detail) : ($"bad input refused: HTTP {status}", null);
    }

    private HttpRequestMessage Post(byte[] body, bool withKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(relay, "/v1/chat/completions"))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        if (withKey) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return request;
    }
}
