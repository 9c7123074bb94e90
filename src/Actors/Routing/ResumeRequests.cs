using System.Buffers;
using System.Text.Json;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Routing;

/// <summary>The request each resume strategy sends: the caller's own, or it with the text so far appended.</summary>
public static class ResumeRequests
{
    /// <summary>The instruction the <c>continue</c> strategy adds after the partial answer.</summary>
    public const string ContinueInstruction =
        "Your previous answer was cut off. Continue it exactly where it stopped: do not repeat anything already written, do not add any preamble.";

    public static ChatRequest For(ChatRequest original, ResumeStrategy strategy, string textSoFar) => strategy switch
    {
        ResumeStrategy.Replay => original,
        ResumeStrategy.Prefill => original with { Body = Appended(original.Body, textSoFar, null), Native = null },
        ResumeStrategy.Continue => original with { Body = Appended(original.Body, textSoFar, ContinueInstruction), Native = null },
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };

    /// <summary>The body with an assistant message holding <paramref name="assistant"/> (and a user message after it) appended.</summary>
    private static JsonElement Appended(JsonElement body, string assistant, string? user)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in body.EnumerateObject())
            {
                if (!property.NameEquals("messages"u8))
                {
                    property.WriteTo(writer);
                    continue;
                }
                writer.WritePropertyName("messages"u8);
                writer.WriteStartArray();
                foreach (var message in property.Value.EnumerateArray()) message.WriteTo(writer);
                Message(writer, "assistant", assistant);
                if (user is not null) Message(writer, "user", user);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static void Message(Utf8JsonWriter writer, string role, string content)
    {
        writer.WriteStartObject();
        writer.WriteString("role"u8, role);
        writer.WriteString("content"u8, content);
        writer.WriteEndObject();
    }
}
