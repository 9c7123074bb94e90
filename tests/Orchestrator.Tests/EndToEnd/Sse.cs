using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>Reads an SSE response body as the bytes on the wire, split into its <c>data:</c> payloads.</summary>
public static class Sse
{
    /// <summary>The data payloads; comment events (<c>: keep-alive</c>) are left out, as every client does.</summary>
    public static IReadOnlyList<string> DataLines(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => !e.StartsWith(':'))
            .Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : throw new Xunit.Sdk.XunitException($"not an SSE data event: {e}"))
            .ToList();

    /// <summary>The answer text: every chunk's delta content, concatenated.</summary>
    public static string Text(IEnumerable<string> dataLines)
    {
        var text = new StringBuilder();
        foreach (var line in dataLines.Where(l => l != "[DONE]"))
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var choice in doc.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                    text.Append(content.GetString());
            }
        }
        return text.ToString();
    }
}
