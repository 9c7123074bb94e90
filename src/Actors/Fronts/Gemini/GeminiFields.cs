using System.Text.Json;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>How the Gemini front reads a request's fields: by either of Google's names, strings only when they are strings.</summary>
internal static class GeminiFields
{
    /// <summary>A field by its JSON name or its proto name (Google's servers take both: <c>systemInstruction</c>, <c>system_instruction</c>).</summary>
    public static bool Present(JsonElement obj, string name, string? protoName, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null
        || protoName is not null && obj.TryGetProperty(protoName, out value) && value.ValueKind != JsonValueKind.Null;

    public static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // Google's wording: "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), ..." reads as this.
    public static InvalidGeminiRequestException Expected(string path, string what) => new($"Invalid value at '{path}': expected {what}.");
}
