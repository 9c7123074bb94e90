using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// A client's JSON body or frame as one value, for every front's reader. UTF-8 is checked first: Utf8JsonReader
/// validates structure but not the bytes inside strings, and reading such a string later would throw far from here
/// (found by fuzzing: a 500 for a body with one bad byte in a string). Errors say where, never what.
/// </summary>
public static class JsonBody
{
    /// <summary>
    /// Tool-call arguments where a dialect wants an object (Anthropic's <c>input</c>, Gemini's <c>args</c>): arguments
    /// "" (a call without any) are <c>{}</c>, and so are arguments that are not a JSON object (a model's malformed
    /// output): a client SDK cannot read anything else there.
    /// </summary>
    public static void WriteObjectOrEmpty(string arguments, Utf8JsonWriter json)
    {
        if (arguments.Length > 0)
        {
            try
            {
                using var parsed = JsonDocument.Parse(arguments);
                if (parsed.RootElement.ValueKind == JsonValueKind.Object)
                {
                    parsed.RootElement.WriteTo(json);
                    return;
                }
            }
            catch (JsonException)
            {
                // falls through to {}
            }
        }
        json.WriteStartObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// A string the reader cannot turn into text: a <c>\u</c> escape of half a surrogate pair is valid JSON and valid
    /// UTF-8, yet <see cref="JsonElement.GetString"/> throws on it (found by fuzzing). Readers catch that and answer this.
    /// </summary>
    public static readonly Orchestrator.Messages.Chat.ApiError BadString = Orchestrator.Messages.Chat.ApiError.InvalidRequest(
        "The request contains a string that is not valid Unicode (an escaped unpaired surrogate such as \\udc00).", null, "invalid_json");

    public static bool TryParse(ReadOnlySequence<byte> body, out JsonElement root, out string problem)
    {
        root = default;
        problem = "";
        if (!IsValidUtf8(body))
        {
            problem = "The request body is not valid UTF-8 text; send JSON encoded as UTF-8.";
            return false;
        }
        try
        {
            var reader = new Utf8JsonReader(body);
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read()) throw new JsonException("there is more after the JSON value");
            return true;
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $"invalid JSON at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "invalid JSON";
            problem = $"We could not parse the JSON body of your request: {where}. Send a JSON object with 'Content-Type: application/json'.";
            return false;
        }
    }

    private static bool IsValidUtf8(in ReadOnlySequence<byte> body)
    {
        if (body.IsSingleSegment) return Utf8.IsValid(body.FirstSpan);
        // A sequence can split a character between segments: check it whole (bodies are bounded by max-request-bytes).
        return Utf8.IsValid(body.ToArray());
    }
}
