using System.Text.Json;

namespace Orchestrator.Actors.Dialects;

/// <summary>
/// Token counts the relay estimates when nobody counted (about four characters a token, plus a few per message,
/// the usual rule of thumb): for <c>count_tokens</c>, for <c>message_start</c> before the upstream has said, and
/// for an answer whose upstream sent no usage. Always reported as estimated.
/// </summary>
public static class TokenEstimate
{
    /// <summary>The input of an OpenAI chat body: every string in its messages and tools.</summary>
    public static int Input(JsonElement chatBody)
    {
        if (chatBody.ValueKind != JsonValueKind.Object) return 1;
        long characters = 0;
        var messages = 0;
        if (chatBody.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in list.EnumerateArray())
            {
                messages++;
                characters += Characters(message);
            }
        }
        if (chatBody.TryGetProperty("tools", out var tools)) characters += Characters(tools);
        return (int)Math.Min(int.MaxValue, Math.Max(1, characters / 4 + 3L * messages));
    }

    /// <summary>The characters of every string under <paramref name="element"/> (property names of objects included, as tool schemas are read).</summary>
    private static long Characters(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return element.GetString()!.Length;
            case JsonValueKind.Array:
                long sum = 0;
                foreach (var item in element.EnumerateArray()) sum += Characters(item);
                return sum;
            case JsonValueKind.Object:
                long total = 0;
                foreach (var property in element.EnumerateObject()) total += property.Name.Length + Characters(property.Value);
                return total;
            default:
                return element.ValueKind is JsonValueKind.Number ? 2 : 0;
        }
    }
}
