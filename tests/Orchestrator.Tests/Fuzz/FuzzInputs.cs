using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Orchestrator.Tests.Fuzz;

/// <summary>
/// Generators for the fuzz tests: JSON shaped like the requests each front reads (the field names and values the
/// readers act on, mixed with anything at all), byte-level mutations of it, and plain random bytes.
/// </summary>
internal static class FuzzInputs
{
    /// <summary>How long each fuzz target runs: a few seconds in CI, longer with ORCHESTRATOR_FUZZ_SECONDS (README "Tests").</summary>
    public static int Seconds => int.TryParse(Environment.GetEnvironmentVariable("ORCHESTRATOR_FUZZ_SECONDS"), out var s) && s > 0 ? s : 4;

    private static readonly string[] Words =
    [
        "model", "messages", "role", "content", "stream", "stream_options", "include_usage", "max_tokens",
        "max_completion_tokens", "n", "tools", "tool_choice", "type", "function", "name", "arguments", "parameters",
        "input", "instructions", "system", "text", "tool_use_id", "tool_call_id", "tool_calls", "id", "image_url", "url",
        "source", "data", "media_type", "max_output_tokens", "store", "previous_response_id", "call_id", "output",
        "thinking", "signature", "stop", "temperature", "top_p", "metadata", "user", "assistant", "developer", "tool",
        "required", "auto", "none", "any", "image", "tool_use", "tool_result", "message", "function_call",
        "function_call_output", "input_text", "output_text", "input_image", "reasoning", "sim", "base64", "json_schema",
        "format", "effort", "prompt", "cancel", "response.create", "chat", "body", "{}", "", "\u0000", "é", "😀",
    ];

    public static readonly Gen<string> Text = Gen.Frequency(
        (6, Gen.OneOf(Words)),
        (3, Gen.String[0, 24]),
        (1, Gen.Char.AlphaNumeric.Array[300, 3000].Select(chars => new string(chars))));

    private static readonly Gen<JsonNode?> Scalar = Gen.Frequency(
        (1, Gen.Const((JsonNode?)null)),
        (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
        (2, Gen.Int[-3, 200].Select(i => (JsonNode?)JsonValue.Create(i))),
        (1, Gen.Long.Select(l => (JsonNode?)JsonValue.Create(l))),
        (1, Gen.Double[-1e6, 1e6].Select(d => (JsonNode?)JsonValue.Create(d))),
        (6, Text.Select(s => (JsonNode?)JsonValue.Create(s))));

    public static Gen<JsonNode?> Value(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency((4, Scalar), (1, Array(depth - 1)), (3, Object(depth - 1)));

    private static Gen<JsonNode?> Array(int depth) =>
        Gen.Int[0, 4].SelectMany(n => Value(depth).Array[n]).Select(items => (JsonNode?)new JsonArray(items));

    public static Gen<JsonNode?> Object(int depth) =>
        Gen.Int[0, 6].SelectMany(n => Gen.Select(Text, Value(depth)).Array[n]).Select(pairs =>
        {
            var obj = new JsonObject();
            foreach (var (key, value) in pairs) obj[key] = value;
            return (JsonNode?)obj;
        });

    /// <summary>A request-like object: a model and a list of messages or input items, then anything.</summary>
    public static readonly Gen<JsonNode?> RequestLike = Gen.Select(Text, Object(3).Array[0, 4], Object(2)).Select((model, items, extra) =>
    {
        var obj = extra as JsonObject ?? new JsonObject();
        obj["model"] = model;
        var list = new JsonArray(items);
        obj[items.Length % 2 == 0 ? "messages" : "input"] = list;
        if (!obj.ContainsKey("max_tokens")) obj["max_tokens"] = 16;
        return (JsonNode?)obj;
    });

    private static readonly string[] GeminiWords =
    [
        "text", "thought", "thoughtSignature", "functionCall", "functionResponse", "inlineData", "fileData", "executableCode",
        "name", "args", "response", "id", "mimeType", "data", "fileUri", "image/png", "audio/wav", "application/pdf",
    ];

    /// <summary>One Gemini part: a known part key (or a random one) holding anything.</summary>
    private static readonly Gen<JsonNode?> GeminiPart = Gen.Select(Gen.Frequency((4, Gen.OneOf(GeminiWords)), (1, Text)), Value(2), Object(1)).Select((key, value, extra) =>
    {
        var part = extra as JsonObject ?? new JsonObject();
        part[key] = value;
        return (JsonNode?)part;
    });

    /// <summary>A GenerateContentRequest-like object: contents of user and model turns with parts, then anything.</summary>
    public static readonly Gen<JsonNode?> GeminiLike = Gen.Select(
        Gen.Select(Gen.Frequency((3, Gen.OneOf("user", "model")), (1, Text)), GeminiPart.Array[0, 4])
            .Select((role, parts) => (JsonNode?)new JsonObject { ["role"] = role, ["parts"] = new JsonArray(parts) }).Array[0, 4],
        Object(2)).Select((contents, extra) =>
    {
        var obj = extra as JsonObject ?? new JsonObject();
        obj["contents"] = new JsonArray(contents);
        return (JsonNode?)obj;
    });

    /// <summary>Bytes the Gemini front may receive, as <see cref="Body"/> but shaped like Gemini's requests.</summary>
    public static readonly Gen<byte[]> GeminiBody = Gen.Frequency(
        (5, GeminiLike.Select(Utf8)),
        (2, Gen.Select(GeminiLike.Select(Utf8), Gen.Int[0, 1 << 20], Gen.Byte).Select((bytes, at, value) => Mutate(bytes, at, value))),
        (1, Gen.Select(GeminiLike.Select(Utf8), Gen.Int[0, 1 << 20]).Select((bytes, cut) => bytes[..(bytes.Length == 0 ? 0 : cut % bytes.Length)])),
        (1, RequestLike.Select(Utf8)),
        (1, Gen.Byte.Array[0, 512]));

    /// <summary>Bytes a front may receive: JSON shaped like a request, the same with a few bytes flipped or cut, or noise.</summary>
    public static readonly Gen<byte[]> Body = Gen.Frequency(
        (5, RequestLike.Select(Utf8)),
        (2, Gen.Select(RequestLike.Select(Utf8), Gen.Int[0, 1 << 20], Gen.Byte).Select((bytes, at, value) => Mutate(bytes, at, value))),
        (1, Gen.Select(RequestLike.Select(Utf8), Gen.Int[0, 1 << 20]).Select((bytes, cut) => bytes[..(bytes.Length == 0 ? 0 : cut % bytes.Length)])),
        (1, Value(3).Select(Utf8)),
        (1, Gen.Byte.Array[0, 512]));

    public static byte[] Utf8(JsonNode? node) => Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null");

    private static byte[] Mutate(byte[] bytes, int at, byte value)
    {
        if (bytes.Length == 0) return bytes;
        var copy = (byte[])bytes.Clone();
        copy[at % copy.Length] = value;
        return copy;
    }
}
