using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>
/// Errors as the Gemini API shapes them, Google's RPC status: <c>{"error":{"code":404,"message":"...","status":"NOT_FOUND"}}</c>.
/// The engine's <see cref="ApiError"/> is OpenAI-shaped; Google's clients branch on <c>code</c> and <c>status</c>,
/// which Google derives from the HTTP status, so the status name is chosen by it here too.
/// </summary>
public static class GeminiFrontErrors
{
    /// <summary>Google's canonical status name for an HTTP status (google.rpc.Code's HTTP mapping).</summary>
    public static string StatusOf(int status) => status switch
    {
        400 or 413 or 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        402 => "RESOURCE_EXHAUSTED",   // the relay's "no credit left": Google's word for a spent quota
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        >= 400 and < 500 => "FAILED_PRECONDITION",
        _ => "INTERNAL",
    };

    /// <summary>The error object, as a response body or the data of an error event.</summary>
    public static void Write(ApiError error, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteNumber("code"u8, error.Status);
        json.WriteString("message"u8, error.Message);
        json.WriteString("status"u8, StatusOf(error.Status));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static byte[] ToJson(ApiError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed: a message's quotes read as written; still valid JSON, never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) Write(error, json);
        return buffer.WrittenSpan.ToArray();
    }

    public static ApiError InvalidArgument(string message) => ApiError.InvalidRequest(message, null, "invalid_argument");

    public static ApiError NotFound(string message) => new(404, message, "invalid_request_error", null, "not_found");
}
