using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Orchestrator.Bench.MockUpstream;

internal static class MockEndpoints
{
    public static Task ModelsAsync(HttpContext http) => WriteJsonAsync(http, StatusCodes.Status200OK, CannedBytes.Models);

    public static async Task ChatAsync(HttpContext http)
    {
        var request = await ReadRequestAsync(http.Request.BodyReader);
        if (request is not { } r) { await WriteJsonAsync(http, StatusCodes.Status400BadRequest, CannedBytes.BadRequest); return; }
        if (!r.Stream) { await WriteJsonAsync(http, StatusCodes.Status200OK, CannedBytes.Completion); return; }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var body = http.Response.BodyWriter;
        var aborted = http.RequestAborted;
        // Each event is written and flushed on its own, as a model server emits tokens.
        await body.WriteAsync(CannedBytes.Role, aborted);
        for (var i = 0; i < r.Chunks; i++)
        {
            if (i > 0 && r.PaceMs > 0) await Task.Delay(r.PaceMs, aborted);
            await body.WriteAsync(CannedBytes.Content[i], aborted);
        }

        await body.WriteAsync(CannedBytes.Finish, aborted);
        await body.WriteAsync(CannedBytes.Done, aborted);
    }

    /// <summary>Anthropic's Messages API with the same answer: the events Anthropic sends, one write and flush each.</summary>
    public static async Task MessagesAsync(HttpContext http)
    {
        var request = await ReadRequestAsync(http.Request.BodyReader);
        if (request is not { } r) { await WriteJsonAsync(http, StatusCodes.Status400BadRequest, CannedBytes.BadRequest); return; }
        if (!r.Stream) { await WriteJsonAsync(http, StatusCodes.Status200OK, CannedBytes.AnthropicMessage); return; }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var body = http.Response.BodyWriter;
        var aborted = http.RequestAborted;
        await body.WriteAsync(CannedBytes.AnthropicStart, aborted);
        for (var i = 0; i < r.Chunks; i++)
        {
            if (i > 0 && r.PaceMs > 0) await Task.Delay(r.PaceMs, aborted);
            await body.WriteAsync(CannedBytes.AnthropicText[i], aborted);
        }

        await body.WriteAsync(CannedBytes.AnthropicEnd(r.Chunks), aborted);
    }

    private static async Task WriteJsonAsync(HttpContext http, int status, byte[] json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        await http.Response.BodyWriter.WriteAsync(json, http.RequestAborted);
    }

    private readonly record struct MockRequest(bool Stream, int Chunks, int PaceMs);

    // Reads the whole (small) body and picks out the three top-level fields the mock cares about.
    private static async ValueTask<MockRequest?> ReadRequestAsync(PipeReader reader)
    {
        while (true)
        {
            var read = await reader.ReadAsync();
            if (read.IsCompleted)
            {
                var parsed = Parse(read.Buffer);
                reader.AdvanceTo(read.Buffer.End);
                return parsed;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static MockRequest? Parse(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        bool stream = false;
        int chunks = 16, paceMs = 0;
        try
        {
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject) return null;
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (json.ValueTextEquals("stream"u8)) { json.Read(); stream = json.TokenType == JsonTokenType.True; }
                else if (json.ValueTextEquals("max_tokens"u8)) { json.Read(); chunks = json.GetInt32(); }
                else if (json.ValueTextEquals("bench_pace_ms"u8)) { json.Read(); paceMs = json.GetInt32(); }
                else { json.Read(); json.Skip(); }
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }

        if (chunks is < 1 or > CannedAnswer.MaxChunks || paceMs < 0) return null;
        return new MockRequest(stream, chunks, paceMs);
    }
}
