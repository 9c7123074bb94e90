using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// Errors as the Anthropic Messages API shapes them: <c>{"type":"error","error":{"type":"...","message":"..."}}</c>.
/// The engine's <see cref="ApiError"/> is OpenAI-shaped; Anthropic clients branch on <c>error.type</c>, which
/// Anthropic derives from the status, so the type is chosen by status here too.
/// </summary>
public static class MessagesErrors
{
    /// <summary>Anthropic's error type for a status (docs: "HTTP errors").</summary>
    public static string TypeOf(int status) => status switch
    {
        400 or 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        >= 400 and < 500 => "invalid_request_error",
        _ => "api_error",
    };

    /// <summary>The error object, as a response body or the data of an <c>event: error</c>.</summary>
    public static void Write(ApiError error, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "error"u8);
        json.WriteStartObject("error"u8);
        json.WriteString("type"u8, TypeOf(error.Status));
        json.WriteString("message"u8, error.Message);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static byte[] ToJson(ApiError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed: a message's quotes and <key> read as written; still valid JSON, never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) Write(error, json);
        return buffer.WrittenSpan.ToArray();
    }
}
