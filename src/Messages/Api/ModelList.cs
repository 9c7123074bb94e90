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

    // Extra fields beyond OpenAI's model object (SDKs ignore fields they do not know); absent when unknown.
    [JsonPropertyName("pricing")] public ModelPricing? Pricing { get; init; }
    [JsonPropertyName("context_window")] public int? ContextWindow { get; init; }
}

/// <summary>What a request to the model is charged, USD per one million tokens.</summary>
public sealed class ModelPricing
{
    [JsonPropertyName("input_usd_per_mtok")] public decimal Input { get; init; }
    [JsonPropertyName("output_usd_per_mtok")] public decimal Output { get; init; }
    [JsonPropertyName("cached_input_usd_per_mtok")] public decimal CachedInput { get; init; }
}
