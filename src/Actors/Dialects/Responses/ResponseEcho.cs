using System.Text.Json;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// The request's settings as every Response object repeats them (<c>instructions</c>, <c>tools</c>, <c>metadata</c>,
/// <c>temperature</c>, ...): the client's own values where it sent them, else the API's defaults. The request is
/// kept as it came, so nothing is copied until a response object is written.
/// </summary>
public sealed class ResponseEcho
{
    // The Responses API's response object, in its order: each field the request can set, with what it shows when
    // the request did not. Fields between them are the response's own (see ResponsesEncoder.WriteResponse).
    private static readonly (string Name, byte[] Default)[] Settings =
    [
        ("instructions", "null"u8.ToArray()),
        ("max_output_tokens", "null"u8.ToArray()),
        ("max_tool_calls", "null"u8.ToArray()),
    ];

    private static readonly (string Name, byte[] Default)[] LaterSettings =
    [
        ("parallel_tool_calls", "true"u8.ToArray()),
        ("previous_response_id", "null"u8.ToArray()),
        ("prompt_cache_key", "null"u8.ToArray()),
        ("reasoning", """{"effort":null,"summary":null}"""u8.ToArray()),
        ("safety_identifier", "null"u8.ToArray()),
        ("service_tier", "\"default\""u8.ToArray()),
        ("store", "false"u8.ToArray()),
        ("temperature", "null"u8.ToArray()),
        ("text", """{"format":{"type":"text"}}"""u8.ToArray()),
        ("tool_choice", "\"auto\""u8.ToArray()),
        ("tools", "[]"u8.ToArray()),
        ("top_logprobs", "0"u8.ToArray()),
        ("top_p", "null"u8.ToArray()),
        ("truncation", "\"disabled\""u8.ToArray()),
    ];

    private static readonly (string Name, byte[] Default)[] LastSettings =
    [
        ("user", "null"u8.ToArray()),
        ("metadata", "{}"u8.ToArray()),
    ];

    private readonly JsonElement _request;

    /// <param name="request">The Responses request as the client sent it (already validated).</param>
    public ResponseEcho(JsonElement request)
    {
        _request = request;
        Model = request.ValueKind == JsonValueKind.Object && request.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
            ? model.GetString()!
            : "";
    }

    /// <summary>The model as the client named it: the response reports that, not the upstream's id for it.</summary>
    public string Model { get; }

    /// <summary>An echo for a request with no settings (tests, and failures before a request could be read).</summary>
    public static ResponseEcho None(string model) => new(JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["model"] = model }));

    /// <summary>The settings that come before <c>model</c> in a response object.</summary>
    public void WriteLeading(Utf8JsonWriter json) => Write(json, Settings);

    /// <summary>The settings between <c>output</c> and <c>usage</c>.</summary>
    public void WriteMiddle(Utf8JsonWriter json) => Write(json, LaterSettings);

    /// <summary>The settings after <c>usage</c>.</summary>
    public void WriteTrailing(Utf8JsonWriter json) => Write(json, LastSettings);

    private void Write(Utf8JsonWriter json, (string Name, byte[] Default)[] settings)
    {
        foreach (var (name, fallback) in settings)
        {
            json.WritePropertyName(name);
            if (_request.ValueKind == JsonValueKind.Object && _request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
                value.WriteTo(json);
            else json.WriteRawValue(fallback, skipInputValidation: true);
        }
    }
}
