using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Messages.Api;

/// <summary>Source-generated serializers for every wire model: no reflection on the per-chunk path.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
public sealed partial class WireJson : JsonSerializerContext;
