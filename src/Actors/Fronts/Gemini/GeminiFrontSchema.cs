using System.Text.Json;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>A Gemini schema (a tool's <c>parameters</c>, a <c>responseSchema</c>) as the JSON schema chat upstreams read.</summary>
internal static class GeminiFrontSchema
{
    /// <summary>
    /// Gemini's Schema (OpenAPI 3.0, types in capitals: <c>OBJECT</c>, <c>STRING</c>, <c>nullable</c>) as JSON schema:
    /// types in lower case, <c>nullable: true</c> as a <c>"null"</c> type beside the other. Everything else is JSON
    /// schema already and is copied.
    /// </summary>
    public static void Write(JsonElement schema, Utf8JsonWriter json)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            schema.WriteTo(json);
            return;
        }
        var nullable = schema.TryGetProperty("nullable"u8, out var n) && n.ValueKind == JsonValueKind.True;
        json.WriteStartObject();
        foreach (var property in schema.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "type" when value.ValueKind == JsonValueKind.String:
                    var type = value.GetString()!.ToLowerInvariant();
                    if (type == "type_unspecified") break;
                    if (nullable)
                    {
                        json.WriteStartArray("type"u8);
                        json.WriteStringValue(type);
                        json.WriteStringValue("null"u8);
                        json.WriteEndArray();
                    }
                    else json.WriteString("type"u8, type);
                    break;
                case "type" when value.ValueKind == JsonValueKind.Array:
                    json.WriteStartArray("type"u8);
                    foreach (var t in value.EnumerateArray())
                    {
                        if (t.ValueKind == JsonValueKind.String) json.WriteStringValue(t.GetString()!.ToLowerInvariant());
                    }
                    json.WriteEndArray();
                    break;
                case "nullable" or "propertyOrdering" or "property_ordering":
                    break;   // said by the type above; the ordering is Gemini's own
                case "properties" or "$defs" or "definitions" or "patternProperties" when value.ValueKind == JsonValueKind.Object:
                    json.WriteStartObject(property.Name);
                    foreach (var field in value.EnumerateObject())
                    {
                        json.WritePropertyName(field.Name);
                        Write(field.Value, json);
                    }
                    json.WriteEndObject();
                    break;
                case "items" or "additionalProperties" or "not" when value.ValueKind == JsonValueKind.Object:
                    json.WritePropertyName(property.Name);
                    Write(value, json);
                    break;
                case "anyOf" or "oneOf" or "allOf" or "prefixItems" when value.ValueKind == JsonValueKind.Array:
                    json.WriteStartArray(property.Name);
                    foreach (var option in value.EnumerateArray()) Write(option, json);
                    json.WriteEndArray();
                    break;
                default:
                    property.WriteTo(json);
                    break;
            }
        }
        json.WriteEndObject();
    }
}
