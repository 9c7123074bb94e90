using System.Text.Json;

namespace Orchestrator.Actors.Upstream;

/// <summary>A non-streamed answer as bytes: read once to check it is one JSON object, never turned into objects.</summary>
public static class CompletionBody
{
    /// <summary>The body itself when it is one JSON object; otherwise a protocol failure of the upstream's.</summary>
    public static byte[] Validate(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new UpstreamProtocolException("the upstream answered with something other than a JSON object");
        reader.Skip();      // validates everything inside
        if (reader.Read()) throw new UpstreamProtocolException("the upstream answered with more than one JSON value");
        return body;
    }
}
