using System.Text.Json;

namespace Orchestrator.Actors.Dialects;

/// <summary>An assistant message's <c>tool_calls</c> in an OpenAI chat body, as the fronts' translations write it.</summary>
public static class ChatToolCalls
{
    /// <summary>Writes <c>"tool_calls":[{"id","type":"function","function":{"name","arguments"}}, ...]</c>.</summary>
    public static void Write(Utf8JsonWriter json, IEnumerable<(string Id, string Name, string Arguments)> calls)
    {
        json.WriteStartArray("tool_calls"u8);
        foreach (var (id, name, arguments) in calls)
        {
            json.WriteStartObject();
            json.WriteString("id"u8, id);
            json.WriteString("type"u8, "function"u8);
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, name);
            json.WriteString("arguments"u8, arguments);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
