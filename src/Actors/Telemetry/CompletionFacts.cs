using System.Text.Json;

namespace Orchestrator.Actors.Telemetry;

/// <summary>The few facts telemetry wants from a whole <c>chat.completion</c>: its model and usage, read in one scan.</summary>
internal readonly record struct CompletionFacts(string? Model, long InputTokens, long OutputTokens)
{
    public static bool TryRead(ReadOnlySpan<byte> json, out CompletionFacts facts)
    {
        facts = default;
        string? model = null;
        long input = 0, output = 0;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) model = reader.GetString();
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isInput = reader.ValueTextEquals("prompt_tokens"u8);
                        var isOutput = reader.ValueTextEquals("completion_tokens"u8);
                        reader.Read();
                        if (isInput && reader.TokenType == JsonTokenType.Number) input = reader.GetInt64();
                        else if (isOutput && reader.TokenType == JsonTokenType.Number) output = reader.GetInt64();
                        else reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }
        facts = new CompletionFacts(model, input, output);
        return true;
    }
}
