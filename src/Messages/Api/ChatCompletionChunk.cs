using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Messages.Api;

// Wire models of the OpenAI chat API (classes, not records: a record would print prompt and completion text
// into any log that formats it). Fields we do not model are kept in Extra, so a chunk read from an
// upstream and written to a client loses nothing (tool_calls, logprobs, reasoning_content, ...).

public sealed class ChatCompletionChunk
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion.chunk";
    [JsonPropertyName("created")] public long Created { get; init; }
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("choices")] public IReadOnlyList<ChunkChoice> Choices { get; init; } = [];
    [JsonPropertyName("usage")] public Usage? Usage { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class ChunkChoice
{
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("delta")] public ChatDelta Delta { get; init; } = ChatDelta.Empty;

    // OpenAI writes "finish_reason": null on every chunk but the last; some clients look for the key.
    [JsonPropertyName("finish_reason")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class ChatDelta
{
    public static readonly ChatDelta Empty = new();

    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("content")] public string? Content { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class Usage
{
    [JsonPropertyName("prompt_tokens")] public int PromptTokens { get; init; }
    [JsonPropertyName("completion_tokens")] public int CompletionTokens { get; init; }
    [JsonPropertyName("total_tokens")] public int TotalTokens { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
