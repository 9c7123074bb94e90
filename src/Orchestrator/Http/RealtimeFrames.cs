using System.Buffers;
using System.Text.Json;
using Akka;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Realtime;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Http;

/// <summary>
/// Reads one client text frame on <c>/v1/realtime</c> into a command. A create is checked with the same rules as an
/// HTTP body (<see cref="ChatRequestReader"/>), after the frame's own fields (<c>type</c>, <c>id</c>) are taken out so
/// they never travel upstream; the answer always streams, with usage, so the done event can carry it.
/// </summary>
public static class RealtimeFrames
{
    private const int MaxIdLength = 128;

    private static readonly RealtimeInvalid BinaryRefused =
        new(null, ApiError.InvalidRequest("Binary frames are not supported; send JSON text frames.", null, "binary_not_supported"));

    /// <summary>A socket's messages (<see cref="WebSocketFrames"/>) as commands: one each, a bad one as <see cref="RealtimeInvalid"/>.</summary>
    public static Flow<WebSocketMessage, IRealtimeCommand, NotUsed> Flow(string? defaultModel) =>
        Akka.Streams.Dsl.Flow.Create<WebSocketMessage>()
            .Select(message => message.IsBinary ? BinaryRefused : Parse(message.Payload.Span, defaultModel))
            .Named("realtime-frames");

    public static IRealtimeCommand Parse(ReadOnlySpan<byte> frame, string? defaultModel)
    {
        try
        {
            return ParseFrame(frame, defaultModel);
        }
        catch (InvalidOperationException)
        {
            return new RealtimeInvalid(null, Actors.Dialects.JsonBody.BadString);
        }
    }

    private static IRealtimeCommand ParseFrame(ReadOnlySpan<byte> frame, string? defaultModel)
    {
        if (!System.Text.Unicode.Utf8.IsValid(frame))
            return new RealtimeInvalid(null, ApiError.InvalidRequest("The message is not valid UTF-8 text; send JSON encoded as UTF-8.", null, "invalid_json"));
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(frame);
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read()) throw new JsonException("there is more after the JSON value");
        }
        catch (JsonException)
        {
            return new RealtimeInvalid(null, ApiError.InvalidRequest("The message is not valid JSON; send one JSON object per text frame.", null, "invalid_json"));
        }
        if (root.ValueKind != JsonValueKind.Object)
            return new RealtimeInvalid(null, ApiError.InvalidRequest("A message must be a JSON object with a 'type'.", null, "invalid_json"));

        string? id = null;
        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
        {
            if (idElement.ValueKind != JsonValueKind.String || idElement.GetString() is not { Length: > 0 and <= MaxIdLength } text)
                return new RealtimeInvalid(null, ApiError.InvalidRequest($"'id' must be a non-empty string of at most {MaxIdLength} characters.", "id", "invalid_type"));
            id = text;
        }
        if (!root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return new RealtimeInvalid(id, ApiError.InvalidRequest("Missing required parameter: 'type'.", "type", "missing_required_parameter"));

        switch (type.GetString())
        {
            case "chat.completions.cancel":
                return id is null
                    ? new RealtimeInvalid(null, ApiError.InvalidRequest("Missing required parameter: 'id' (the request to cancel).", "id", "missing_required_parameter"))
                    : new RealtimeCancel(id);
            case "chat.completions.create":
                var parsed = ChatRequestReader.Parse(new ReadOnlySequence<byte>(RequestBody(root, defaultModel)));
                return parsed.Error is { } error ? new RealtimeInvalid(id, error) : new RealtimeCreate(id, parsed.Request!);
            default:
                return new RealtimeInvalid(id, ApiError.InvalidRequest(
                    $"Unknown message type '{ApiError.Quote(type.GetString()!)}'. Expected 'chat.completions.create' or 'chat.completions.cancel'.", "type", "unknown_type"));
        }
    }

    /// <summary>The frame as a chat completions body: without type and id, with the socket's model if it names none, streamed with usage.</summary>
    private static byte[] RequestBody(JsonElement frame, string? defaultModel)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var hasModel = false;
            foreach (var property in frame.EnumerateObject())
            {
                if (property.NameEquals("type"u8) || property.NameEquals("id"u8) || property.NameEquals("stream"u8) || property.NameEquals("stream_options"u8)) continue;
                if (property.NameEquals("model"u8)) hasModel = true;
                property.WriteTo(writer);
            }
            if (!hasModel && defaultModel is not null) writer.WriteString("model"u8, defaultModel);
            writer.WriteBoolean("stream"u8, true);
            writer.WriteStartObject("stream_options"u8);
            writer.WriteBoolean("include_usage"u8, true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
