using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// The body sent to an OpenAI-kind upstream: the caller's JSON object property by property, untouched, except
/// that <c>model</c> becomes the route's upstream model and <c>stream</c> says what the request record says.
/// </summary>
public static class UpstreamRequestBody
{
    public static byte[] Write(ChatRequest request, string upstreamModel)
    {
        var body = request.Body;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, upstreamModel);
            writer.WriteBoolean("stream"u8, request.Stream);
            foreach (var property in body.EnumerateObject())
            {
                if (property.NameEquals("model"u8) || property.NameEquals("stream"u8)) continue;
                if (request.UsageForBilling && property.NameEquals("stream_options"u8)) continue;
                property.WriteTo(writer);
            }
            if (request.Stream && request.UsageForBilling) WriteUsageOption(writer, body);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The caller's stream_options with include_usage on: the relay bills by the upstream's own count.</summary>
    private static void WriteUsageOption(Utf8JsonWriter writer, JsonElement body)
    {
        writer.WriteStartObject("stream_options"u8);
        writer.WriteBoolean("include_usage"u8, true);
        if (body.TryGetProperty("stream_options"u8, out var options) && options.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in options.EnumerateObject())
                if (!option.NameEquals("include_usage"u8)) option.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
