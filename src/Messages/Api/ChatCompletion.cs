using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Messages.Api;

public sealed class ChatCompletion
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion";
    [JsonPropertyName("created")] public long Created { get; init; }
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("choices")] public IReadOnlyList<CompletionChoice> Choices { get; init; } = [];
    [JsonPropertyName("usage")] public Usage? Usage { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class CompletionChoice
{
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("message")] public AssistantMessage Message { get; init; } = new();

    [JsonPropertyName("finish_reason")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class AssistantMessage
{
    [JsonPropertyName("role")] public string Role { get; init; } = "assistant";

    // OpenAI: content is null (not absent) when the answer is only tool calls.
    [JsonPropertyName("content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
