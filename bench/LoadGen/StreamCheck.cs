using System.Text.Json;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// Checks one SSE answer line by line: each non-empty <c>delta.content</c> must be the next expected token, an
/// <c>error</c> object fails the stream, and the stream must end with <c>[DONE]</c> after every token. An Anthropic
/// stream (Orchestrator's <c>/v1/messages</c>) is checked the same way: <c>delta.text</c> carries the tokens, an
/// <c>error</c> event fails it, and <c>message_stop</c> plays the part of <c>[DONE]</c>. A Gemini stream (its
/// <c>streamGenerateContent?alt=sse</c>) carries the tokens in <c>candidates[].content.parts[].text</c>, one
/// response per chunk, and has no end marker: the response with a <c>finishReason</c> is the last one.
/// </summary>
internal sealed class StreamCheck(byte[][] expected, Front front = Front.Chat)
{
    private int _received;
    private bool _done;

    public long FirstContent { get; private set; }

    public string? Error { get; private set; }

    public void OnLine(ReadOnlySpan<byte> line, long now)
    {
        if (line.EndsWith((byte)'\r')) line = line[..^1];
        if (!line.StartsWith("data:"u8)) return;   // blank lines end events; comments and other fields carry no content
        var payload = line[5..];
        if (payload.StartsWith((byte)' ')) payload = payload[1..];
        if (_done) { Error = front == Front.Gemini ? "data after finishReason" : "data after [DONE]"; return; }
        if (front != Front.Gemini && (payload.SequenceEqual("[DONE]"u8) || payload.IndexOf("\"message_stop\""u8) >= 0)) { _done = true; return; }

        try
        {
            var finished = false;
            var json = new Utf8JsonReader(payload);
            while (json.Read())
            {
                if (json.TokenType != JsonTokenType.PropertyName) continue;
                if (json.CurrentDepth == 1 && json.ValueTextEquals("error"u8)) { Error = "error event"; return; }
                if (front == Front.Gemini && json.ValueTextEquals("finishReason"u8))
                {
                    json.Read();
                    finished |= json.TokenType == JsonTokenType.String;
                    continue;
                }
                if (!json.ValueTextEquals("content"u8) && !json.ValueTextEquals("text"u8)) continue;
                json.Read();
                if (json.TokenType != JsonTokenType.String || json.ValueSpan.IsEmpty) continue;
                if (_received == expected.Length) { Error = "too many chunks"; return; }
                if (!json.ValueTextEquals(expected[_received])) { Error = "wrong content"; return; }
                if (_received++ == 0) FirstContent = now;
            }

            // The finishing response's own parts (if any) were counted above; nothing may follow it.
            if (finished) _done = true;
        }
        catch (JsonException)
        {
            Error = "malformed event";
        }
    }

    /// <summary>Called when the body ended: what is missing, if anything.</summary>
    public string? EndError() =>
        _received != expected.Length ? $"{_received}/{expected.Length} chunks"
        : !_done ? (front == Front.Gemini ? "no finishReason" : "no [DONE]")
        : null;
}
