using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Embedding;

/// <summary>Builds a <see cref="ChatRequest"/> in code, for embedders that have no JSON body to hand.</summary>
public static class ChatRequests
{
    public static ChatRequest Create(string model, IEnumerable<(string Role, string Content)> messages, int? maxTokens = null, bool includeUsage = false)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
        };
        if (maxTokens is { } max) body["max_tokens"] = max;
        if (includeUsage) body["stream_options"] = new JsonObject { ["include_usage"] = true };
        var element = JsonSerializer.SerializeToElement(body, Orchestrator.Messages.Api.WireJson.Default.JsonNode);
        return new ChatRequest(model, Stream: false, includeUsage, maxTokens, element);
    }
}
