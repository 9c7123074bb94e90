using System.Text.Json;
using static Orchestrator.Actors.Fronts.Gemini.GeminiFields;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>A Gemini <c>generationConfig</c> as the chat body's sampling, limit, output-format and reasoning fields.</summary>
internal static class GeminiFrontGeneration
{
    public static void Write(JsonElement root, Utf8JsonWriter json, DroppedFields dropped)
    {
        if (!Present(root, "generationConfig", "generation_config", out var config)) return;
        if (config.ValueKind != JsonValueKind.Object) throw Expected("generationConfig", "a GenerationConfig object");
        var mime = String(config, "responseMimeType") ?? String(config, "response_mime_type");
        foreach (var property in config.EnumerateObject())
        {
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null) continue;
            switch (property.Name)
            {
                case "temperature":
                    CopyNumber(value, "temperature", json);
                    break;
                case "topP" or "top_p":
                    CopyNumber(value, "top_p", json);
                    break;
                case "presencePenalty" or "presence_penalty":
                    CopyNumber(value, "presence_penalty", json);
                    break;
                case "frequencyPenalty" or "frequency_penalty":
                    CopyNumber(value, "frequency_penalty", json);
                    break;
                case "seed":
                    CopyInteger(value, "seed", json, property.Name);
                    break;
                case "maxOutputTokens" or "max_output_tokens":
                    CopyInteger(value, "max_tokens", json, property.Name);
                    break;
                case "candidateCount" or "candidate_count":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var count)) throw Expected($"generationConfig.{property.Name}", "an integer");
                    if (count > 1) json.WriteNumber("n"u8, count);
                    break;
                case "stopSequences" or "stop_sequences":
                    if (value.ValueKind != JsonValueKind.Array) throw Expected($"generationConfig.{property.Name}", "a list of strings");
                    if (value.GetArrayLength() == 0) break;
                    json.WriteStartArray("stop"u8);
                    foreach (var stop in value.EnumerateArray())
                    {
                        if (stop.ValueKind != JsonValueKind.String) throw Expected($"generationConfig.{property.Name}", "a list of strings");
                        json.WriteStringValue(stop.GetString());
                    }
                    json.WriteEndArray();
                    break;
                case "responseMimeType" or "response_mime_type":
                    if (mime is not ("application/json" or "text/plain")) dropped.Add($"generationConfig.responseMimeType:{mime}");
                    break;
                case "responseSchema" or "response_schema" or "responseJsonSchema" or "response_json_schema" or "_responseJsonSchema":
                    break;   // below, with the MIME type they go with
                case "thinkingConfig" or "thinking_config":
                    WriteThinking(value, json, dropped);
                    break;
                default:
                    dropped.Add($"generationConfig.{property.Name}");   // topK, responseModalities, speechConfig, ...
                    break;
            }
        }
        if (mime != "application/json") return;
        var hasSchema = Present(config, "responseJsonSchema", "response_json_schema", out var schema) && schema.ValueKind == JsonValueKind.Object
            || Present(config, "responseSchema", "response_schema", out schema) && schema.ValueKind == JsonValueKind.Object;
        json.WriteStartObject("response_format"u8);
        if (hasSchema)
        {
            json.WriteString("type"u8, "json_schema"u8);
            json.WriteStartObject("json_schema"u8);
            json.WriteString("name"u8, "response"u8);
            json.WritePropertyName("schema"u8);
            GeminiFrontSchema.Write(schema, json);
            json.WriteEndObject();
        }
        else json.WriteString("type"u8, "json_object"u8);
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>thinkingLevel</c> is <c>reasoning_effort</c> by another name; a <c>thinkingBudget</c> maps to the effort whose
    /// budget Google's own OpenAI-compatible endpoint uses (1024 low, 8192 medium, 24576 high). -1 (the model decides)
    /// says nothing; <c>includeThoughts</c> needs no field: reasoning the upstream sends comes back as thought parts.
    /// </summary>
    private static void WriteThinking(JsonElement thinking, Utf8JsonWriter json, DroppedFields dropped)
    {
        if (thinking.ValueKind != JsonValueKind.Object) throw Expected("generationConfig.thinkingConfig", "a ThinkingConfig object");
        string? effort = null;
        if ((String(thinking, "thinkingLevel") ?? String(thinking, "thinking_level")) is { } level)
        {
            effort = level.ToUpperInvariant() switch
            {
                "MINIMAL" => "minimal",
                "LOW" => "low",
                "MEDIUM" => "medium",
                "HIGH" => "high",
                _ => null,
            };
            if (effort is null) dropped.Add($"generationConfig.thinkingConfig.thinkingLevel:{level}");
        }
        else if ((thinking.TryGetProperty("thinkingBudget"u8, out var budget) || thinking.TryGetProperty("thinking_budget"u8, out budget))
                 && budget.ValueKind == JsonValueKind.Number && budget.TryGetInt32(out var tokens))
        {
            effort = tokens switch
            {
                < 0 => null,
                0 => "none",
                <= 1024 => "low",
                <= 8192 => "medium",
                _ => "high",
            };
        }
        if (effort is not null) json.WriteString("reasoning_effort"u8, effort);
    }

    private static void CopyNumber(JsonElement value, string to, Utf8JsonWriter json)
    {
        if (value.ValueKind != JsonValueKind.Number) throw Expected($"generationConfig.{to}", "a number");
        json.WritePropertyName(to);
        value.WriteTo(json);
    }

    private static void CopyInteger(JsonElement value, string to, Utf8JsonWriter json, string from)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number)) throw Expected($"generationConfig.{from}", "an integer");
        json.WriteNumber(to, number);
    }
}
