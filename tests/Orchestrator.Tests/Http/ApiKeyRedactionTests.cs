using Orchestrator.Http;

namespace Orchestrator.Tests.Http;

public sealed class ApiKeyRedactionTests
{
    [Theory]
    [InlineData("?model=x&api_key=sk-1", "?model=x&api_key=***")]
    [InlineData("?alt=sse&key=AIza123", "?alt=sse&key=***")]         // Gemini's URL form
    [InlineData("?key=AIza123&alt=sse", "?key=***&alt=sse")]
    [InlineData("?KEY=AIza123", "?KEY=***")]
    [InlineData("?monkey=banana&x-api-key=1", "?monkey=banana&x-api-key=1")]   // only the key parameters
    [InlineData("no query here", "no query here")]
    public void Redact_GeminiKeyAndRealtimeApiKey_ValuesReplaced(string text, string redacted) =>
        Assert.Equal(redacted, ApiKeyRedaction.Redact(text));
}
