using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Actors.Simulator;

/// <summary>
/// The simulator's tool call: when a request offers function tools and asks for one (<c>tool_choice</c> "required" or
/// naming a function; or "auto" with the user's own last words naming a tool, as a whole word), and the request is
/// not answering a tool result, the answer is one call of that tool. What a client adds to the user's turn on its own
/// (<c>&lt;system-reminder&gt;</c> and other tagged blocks such as <c>&lt;environment_context&gt;</c>) never counts as
/// asking, and a turn that follows a tool result never gets another call: any client loop against the simulator ends.
/// Its arguments fill the schema's required properties with example values; its id is derived from the prompt, so
/// the same request gets the same call.
/// </summary>
internal sealed partial record SimulatedToolCall(string Id, string Name, string Arguments)
{
    public static SimulatedToolCall? For(JsonElement body)
    {
        if (!body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0) return null;
        var last = LastMessage(body);
        if (last is null || Role(last.Value) is "tool" or "assistant" || AnswersToolResult(body)) return null;
        var choice = body.TryGetProperty("tool_choice", out var c) ? c : default;
        var tool = choice.ValueKind switch
        {
            JsonValueKind.String when choice.GetString() == "required" => FirstFunction(tools),
            JsonValueKind.Object when choice.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                => Functions(tools).FirstOrDefault(t => FunctionName(t) == n.GetString()),
            JsonValueKind.Undefined or JsonValueKind.Null => Named(tools, Text(last.Value)),
            JsonValueKind.String when choice.GetString() == "auto" => Named(tools, Text(last.Value)),
            _ => null,
        };
        if (tool is not { } function || FunctionName(function) is not { Length: > 0 } name) return null;
        var arguments = ExampleArguments(function.TryGetProperty("parameters", out var p) ? p : default);
        var id = "call_sim_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.GetRawText())))[..20];
        return new SimulatedToolCall(id, name, arguments);
    }

    private static IEnumerable<JsonElement> Functions(JsonElement tools) =>
        tools.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.Object && t.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object)
            .Select(t => t.GetProperty("function"));

    private static JsonElement? FirstFunction(JsonElement tools) => Functions(tools).Cast<JsonElement?>().FirstOrDefault();

    /// <summary>The tool the user's own words name (a whole word), tagged blocks a client added left out.</summary>
    private static JsonElement? Named(JsonElement tools, string text)
    {
        var own = ClientBlock().Replace(text, " ");
        return Functions(tools).Cast<JsonElement?>().FirstOrDefault(t => FunctionName(t!.Value) is { Length: > 0 } name && NamesWord(own, name));
    }

    private static bool NamesWord(string text, string word)
    {
        for (var at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + 1, StringComparison.Ordinal))
        {
            var before = at == 0 || !IsWordChar(text[at - 1]);
            var after = at + word.Length == text.Length || !IsWordChar(text[at + word.Length]);
            if (before && after) return true;
        }
        return false;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>The last user turn comes after a tool result (the user messages at the end follow a tool message, not an assistant one).</summary>
    private static bool AnswersToolResult(JsonElement body)
    {
        var messages = body.GetProperty("messages");
        for (var i = messages.GetArrayLength() - 1; i >= 0; i--)
        {
            switch (Role(messages[i]))
            {
                case "tool": return true;
                case "assistant": return false;
            }
        }
        return false;
    }

    /// <summary>A block a client wraps in a tag of two or more words (system-reminder, environment_context, command-message).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"<([A-Za-z]+[-_][A-Za-z_-]+)(\s[^>]*)?>[\s\S]*?</\1>")]
    private static partial System.Text.RegularExpressions.Regex ClientBlock();

    private static string? FunctionName(JsonElement function) =>
        function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;

    private static JsonElement? LastMessage(JsonElement body) =>
        body.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array && m.GetArrayLength() > 0 ? m[m.GetArrayLength() - 1] : null;

    private static string? Role(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;

    private static string Text(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content)) return "";
        if (content.ValueKind == JsonValueKind.String) return content.GetString() ?? "";
        if (content.ValueKind != JsonValueKind.Array) return "";
        return string.Join('\n', content.EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            .Select(p => p.GetProperty("text").GetString()));
    }

    /// <summary>An example value for every required property (strings "example", numbers 1, booleans true); "{}" when none.</summary>
    internal static string ExampleArguments(JsonElement schema)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer)) WriteExample(json, schema);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>An object with every required property of <paramref name="schema"/> given an example value.</summary>
    private static void WriteExample(Utf8JsonWriter json, JsonElement schema)
    {
        json.WriteStartObject();
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array
            && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String || !properties.TryGetProperty(name.GetString()!, out var property)) continue;
                json.WritePropertyName(name.GetString()!);
                Example(json, property);
            }
        }
        json.WriteEndObject();
    }

    private static void Example(Utf8JsonWriter json, JsonElement property)
    {
        if (property.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
        {
            values[0].WriteTo(json);
            return;
        }
        // "string", Gemini's "STRING", or a list such as ["string", "null"].
        var type = !property.TryGetProperty("type", out var t) ? "string"
            : t.ValueKind == JsonValueKind.String ? t.GetString()!.ToLowerInvariant()
            : t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!.ToLowerInvariant() : "null").FirstOrDefault(n => n != "null") ?? "null"
            : "string";
        switch (type)
        {
            case "integer" or "number": json.WriteNumberValue(1); break;
            case "boolean": json.WriteBooleanValue(true); break;
            case "array": json.WriteStartArray(); json.WriteEndArray(); break;
            case "object": WriteExample(json, property); break;
            case "null": json.WriteNullValue(); break;
            default: json.WriteStringValue("example"); break;
        }
    }
}
