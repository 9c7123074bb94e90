using System.Text.Json;
using static Orchestrator.Actors.Fronts.Gemini.GeminiFields;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>
/// <c>tools</c> and <c>toolConfig</c> of a Gemini request as chat <c>tools</c> and <c>tool_choice</c>: function
/// declarations become function tools; Google's own tools (search, code execution, maps, ...) run at Google and are
/// named as dropped; ANY with allowed names offers only those functions.
/// </summary>
internal static class GeminiFrontTools
{
    public static void Write(JsonElement root, Utf8JsonWriter json, DroppedFields dropped)
    {
        var (mode, allowed) = CallingConfig(root, dropped);
        var count = 0;
        if (Present(root, "tools", null, out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array) throw Expected("tools", "a list of Tool objects");
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (tool.ValueKind != JsonValueKind.Object) throw Expected(path, "a Tool object");
                foreach (var property in tool.EnumerateObject())
                {
                    if (property.Name is not ("functionDeclarations" or "function_declarations"))
                    {
                        dropped.Add($"{path}:{property.Name}");
                        continue;
                    }
                    if (property.Value.ValueKind == JsonValueKind.Null) continue;
                    if (property.Value.ValueKind != JsonValueKind.Array) throw Expected($"{path}.functionDeclarations", "a list");
                    var k = 0;
                    foreach (var declaration in property.Value.EnumerateArray())
                    {
                        var at = $"{path}.functionDeclarations[{k++}]";
                        if (declaration.ValueKind != JsonValueKind.Object) throw Expected(at, "a FunctionDeclaration object");
                        var name = String(declaration, "name") ?? throw new InvalidGeminiRequestException($"* GenerateContentRequest.{at}.name: Name cannot be empty.");
                        // ANY with allowed names: only those may be called, so only those are offered.
                        if (mode == "ANY" && allowed.Count > 0 && !allowed.Contains(name)) continue;
                        if (count++ == 0) json.WriteStartArray("tools"u8);
                        WriteFunction(declaration, name, json, dropped);
                    }
                }
            }
            if (count > 0) json.WriteEndArray();
        }
        // OpenAI refuses a tool_choice without tools.
        if (count == 0 || mode is null) return;
        switch (mode)
        {
            case "NONE":
                json.WriteString("tool_choice"u8, "none"u8);
                break;
            case "ANY" when allowed.Count == 1:
                json.WriteStartObject("tool_choice"u8);
                json.WriteString("type"u8, "function"u8);
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, allowed.First());
                json.WriteEndObject();
                json.WriteEndObject();
                break;
            case "ANY":
                json.WriteString("tool_choice"u8, "required"u8);
                break;
            default:
                json.WriteString("tool_choice"u8, "auto"u8);
                break;
        }
    }

    private static void WriteFunction(JsonElement declaration, string name, Utf8JsonWriter json, DroppedFields dropped)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "function"u8);
        json.WriteStartObject("function"u8);
        json.WriteString("name"u8, name);
        if (String(declaration, "description") is { } description) json.WriteString("description"u8, description);
        json.WritePropertyName("parameters"u8);
        if (Present(declaration, "parametersJsonSchema", "parameters_json_schema", out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object)
            GeminiFrontSchema.Write(jsonSchema, json);
        else if (Present(declaration, "parameters", null, out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            GeminiFrontSchema.Write(parameters, json);
        else
        {
            // A function without parameters: OpenAI wants an object schema all the same.
            json.WriteStartObject();
            json.WriteString("type"u8, "object"u8);
            json.WriteStartObject("properties"u8);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
        foreach (var property in declaration.EnumerateObject())
        {
            if (property.Name is "response" or "responseJsonSchema" or "response_json_schema" or "behavior") dropped.Add($"tools.functionDeclarations.{property.Name}");
        }
    }

    private static (string? Mode, HashSet<string> Allowed) CallingConfig(JsonElement root, DroppedFields dropped)
    {
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        if (!Present(root, "toolConfig", "tool_config", out var config)) return (null, allowed);
        if (config.ValueKind != JsonValueKind.Object) throw Expected("toolConfig", "a ToolConfig object");
        string? mode = null;
        foreach (var property in config.EnumerateObject())
        {
            if (property.Name is not ("functionCallingConfig" or "function_calling_config"))
            {
                dropped.Add($"toolConfig.{property.Name}");
                continue;
            }
            var calling = property.Value;
            if (calling.ValueKind == JsonValueKind.Null) continue;
            if (calling.ValueKind != JsonValueKind.Object) throw Expected("toolConfig.functionCallingConfig", "a FunctionCallingConfig object");
            // VALIDATED (AUTO with schema-checked calls) and MODE_UNSPECIFIED read as AUTO.
            mode = String(calling, "mode")?.ToUpperInvariant() switch
            {
                "ANY" => "ANY",
                "NONE" => "NONE",
                _ => "AUTO",
            };
            if ((calling.TryGetProperty("allowedFunctionNames"u8, out var names) || calling.TryGetProperty("allowed_function_names"u8, out names)) && names.ValueKind == JsonValueKind.Array)
            {
                foreach (var name in names.EnumerateArray())
                {
                    if (name.ValueKind == JsonValueKind.String) allowed.Add(name.GetString()!);
                }
            }
        }
        return (mode, allowed);
    }
}
