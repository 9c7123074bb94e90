using Akka.Configuration;

namespace Orchestrator.Actors.Settings;

/// <summary><c>orchestrator.telemetry</c>: read by the host, which alone exports metrics and traces (the engine only instruments).</summary>
public sealed record TelemetrySettings(bool Metrics, Uri? OtlpEndpoint, OtlpProtocol OtlpProtocol, string ServiceName)
{
    public static TelemetrySettings FromConfig(Config config)
    {
        var node = ConfigNode.Root(config).Child("orchestrator").Child("telemetry");
        Uri? endpoint = null;
        if (node.OptionalString("otlp-endpoint") is { Length: > 0 } raw)
        {
            if (!Uri.TryCreate(raw, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https"))
                throw new InvalidConfigException(node.KeyPath("otlp-endpoint"), $"'{raw}' is not an http:// or https:// URL");
        }
        var protocol = node.String("otlp-protocol") switch
        {
            "grpc" => OtlpProtocol.Grpc,
            "http/protobuf" => OtlpProtocol.HttpProtobuf,
            var other => throw new InvalidConfigException(node.KeyPath("otlp-protocol"), $"'{other}' is not one of grpc, http/protobuf"),
        };
        return new TelemetrySettings(node.Bool("metrics"), endpoint, protocol, node.String("service-name"));
    }
}

public enum OtlpProtocol
{
    Grpc,
    HttpProtobuf,
}
