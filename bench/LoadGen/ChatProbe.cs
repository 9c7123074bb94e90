using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// Sends one chat request and checks the answer: a completion must carry the canned text; a stream must carry
/// exactly the expected content chunks, in order, then <c>[DONE]</c> (or its front's end: <see cref="StreamCheck"/>). The body is read into one pooled buffer
/// and scanned as bytes; each <c>data:</c> line is parsed with <see cref="System.Text.Json.Utf8JsonReader"/>.
/// </summary>
public sealed class ChatProbe(HttpClient client)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly byte[] CompletionText = Encoding.UTF8.GetBytes(CannedAnswer.CompletionText);

    /// <summary>A client for many parallel requests: one connection per request in flight, no proxy, no cookies.</summary>
    public static HttpClient CreateClient() => LoadClient.Create(TimeSpan.FromMinutes(5));

    public async Task<Outcome> SendAsync(Target target, RequestShape shape, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.UrlFor(shape));
            request.Content = new ByteArrayContent(shape.Body) { Headers = { ContentType = Json } };
            // Google's clients send the key in x-goog-api-key; the other fronts take Authorization: Bearer.
            if (target.ApiKey is { } key && shape.Via == Front.Gemini) request.Headers.TryAddWithoutValidation("x-goog-api-key", key);
            else if (target.ApiKey is { } bearer) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode != HttpStatusCode.OK) return new Outcome(start, Stopwatch.GetTimestamp(), 0, $"HTTP {(int)response.StatusCode}");
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            return shape.Stream ? await ReadStreamAsync(body, shape, start, ct) : await ReadCompletionAsync(body, start, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new Outcome(start, Stopwatch.GetTimestamp(), 0, "timeout");
        }
        catch (Exception e)
        {
            return new Outcome(start, Stopwatch.GetTimestamp(), 0, e.GetType().Name);
        }
    }

    private static async Task<Outcome> ReadCompletionAsync(Stream body, long start, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
            {
                length += read;
                if (length == buffer.Length) Grow(ref buffer, length);
            }

            var ok = buffer.AsSpan(0, length).IndexOf(CompletionText) >= 0;
            return new Outcome(start, Stopwatch.GetTimestamp(), 0, ok ? null : "wrong completion body");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<Outcome> ReadStreamAsync(Stream body, RequestShape shape, long start, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var check = new StreamCheck(shape.ExpectedTokens, shape.Via);
        int from = 0, to = 0;
        try
        {
            while (check.Error is null)
            {
                if (to == buffer.Length)
                {
                    if (from > 0) { buffer.AsSpan(from, to - from).CopyTo(buffer); to -= from; from = 0; }
                    else Grow(ref buffer, to);
                }

                var read = await body.ReadAsync(buffer.AsMemory(to), ct);
                if (read == 0) break;
                to += read;
                var now = Stopwatch.GetTimestamp();
                int lf;
                while (check.Error is null && (lf = buffer.AsSpan(from, to - from).IndexOf((byte)'\n')) >= 0)
                {
                    check.OnLine(buffer.AsSpan(from, lf), now);
                    from += lf + 1;
                }

                if (from == to) from = to = 0;
            }

            return new Outcome(start, Stopwatch.GetTimestamp(), check.FirstContent, check.Error ?? check.EndError());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Grow(ref byte[] buffer, int length)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }
}
