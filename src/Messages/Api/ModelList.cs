using System.Text.Json.Serialization;

namespace Orchestrator.Messages.Api;

public sealed class ModelList
{
    [JsonPropertyName("object")] public string Object { get; init; } = "list";
    [JsonPropertyName("data")] public IReadOnlyList<ModelInfo> Data { get; init; } = [];
}

public sealed class ModelInfo
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("object")] public string Object { get; init; } = "model";
    [JsonPropertyName("created")] public long Created { get; init; }
    [JsonPropertyName("owned_by")] public string OwnedBy { get; init; } = "orchestrator";
}
