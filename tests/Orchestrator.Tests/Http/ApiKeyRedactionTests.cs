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
    [InlineData("?model=free&api%5Fkey=sk-orc-1", "?model=free&api%5Fkey=***")]   // ASP.NET decodes the name and takes the key
    [InlineData("?api%5fkey=sk-orc-1", "?api%5fkey=***")]
    [InlineData("?API_KEY=sk-orc-1&x=1", "?API_KEY=***&x=1")]
    [InlineData("?%6Bey=AIza123", "?%6Bey=***")]
    [InlineData("?%61pi_key=sk-orc-1", "?%61pi_key=***")]
    [InlineData("?k%65y=1&monkey=2", "?k%65y=***&monkey=2")]
    public void Redact_GeminiKeyAndRealtimeApiKey_ValuesReplaced(string text, string redacted) =>
        Assert.Equal(redacted, ApiKeyRedaction.Redact(text));
}
