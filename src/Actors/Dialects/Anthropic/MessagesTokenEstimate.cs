using System.Text.Json;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// A rough count of a Messages request's input tokens, for <c>count_tokens</c> and the <c>message_start</c> usage
/// (which must not read 0 before the upstream reports): about four characters a token over the text of
/// <c>system</c>, <c>messages</c> and <c>tools</c>, and a flat charge per image or document, whose bytes say
/// nothing about their token cost. Always labelled as an estimate where a client sees it.
/// </summary>
public static class MessagesTokenEstimate
{
    private const int CharactersPerToken = 4;

    /// <summary>Anthropic's own rule of thumb for an image of about 1.15 megapixels: (width * height) / 750.</summary>
    private const int TokensPerAttachment = 1600;

    public static int Estimate(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object) return 1;
        long characters = 0, attachments = 0;
        foreach (var name in (ReadOnlySpan<string>)["system", "messages", "tools"])
            if (request.TryGetProperty(name, out var part)) Walk(part, ref characters, ref attachments);
        var tokens = (characters + CharactersPerToken - 1) / CharactersPerToken + attachments * TokensPerAttachment;
        return (int)Math.Clamp(tokens, 1, int.MaxValue);
    }

    private static void Walk(JsonElement element, ref long characters, ref long attachments)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                characters += element.GetString()!.Length;
                break;
            case JsonValueKind.Number:
                characters += element.GetRawText().Length;
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) Walk(item, ref characters, ref attachments);
                break;
            case JsonValueKind.Object:
                if (element.TryGetProperty("type", out var type) && (type.ValueEquals("image"u8) || type.ValueEquals("document"u8))
                    && element.TryGetProperty("source", out var source) && !(source.TryGetProperty("type", out var kind) && kind.ValueEquals("text"u8)))
                {
                    attachments++;   // base64 or a URL: its length is not its cost
                    break;
                }
                foreach (var property in element.EnumerateObject())
                {
                    // Structure and cache markers are not prompt text; field names of tool schemas are.
                    if (property.NameEquals("type"u8) || property.NameEquals("cache_control"u8) || property.NameEquals("signature"u8)) continue;
                    characters += property.Name.Length;
                    Walk(property.Value, ref characters, ref attachments);
                }
                break;
        }
    }
}
