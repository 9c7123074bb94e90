using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Actors.Upstream;
using Serilog.Core;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// A hostile upstream that quotes the provider's key in its error, whole, cut short and with characters elided, in
/// its code, param, type and message: none of it reaches the client, the log (at Debug) or /v1/providers.
/// </summary>
public sealed class SecretEchoTests
{
    private const string ProviderKey = "sk-UPSTREAM-secret-0123456789abcdef-777";

    [Theory]
    [InlineData("sk-UPSTREAM-secret-0123456789abcdef-777", "leak:***")]
    [InlineData("sk-UPSTREA", "leak:***")]                      // cut short
    [InlineData("sk-UPSTREA...cdef-777", "leak:***...***")]     // elided in the middle
    [InlineData("nothing-secret", "leak:nothing-secret")]
    public void Redact_AnyLongEnoughPieceOfTheKey_IsScrubbed(string echoed, string expected) =>
        Assert.Equal(expected, FailureClassifier.Redact("leak:" + echoed, new Messages.Secret(ProviderKey)));

    [Theory]
    [InlineData(401)]
    [InlineData(400)]
    [InlineData(500)]
    public async Task UpstreamError_QuotingTheKeyInEveryField_LeavesNoTraceAnywhere(int status)
    {
        var elided = ProviderKey[..10] + "..." + ProviderKey[^8..];
        var (upstream, url) = await LoopbackApp.StartAsync(app => app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            var error = new System.Text.Json.Nodes.JsonObject
            {
                ["message"] = $"bad key {ProviderKey} ({elided})", ["type"] = "leak:" + ProviderKey[..12], ["param"] = "p:" + elided, ["code"] = "leak:" + ProviderKey,
            };
            await http.Response.WriteAsync(new System.Text.Json.Nodes.JsonObject { ["error"] = error }.ToJsonString());
        }));
        await using var _ = upstream;
        var log = new CapturingLogSink("{Level} {SourceContext} {Message:lj}");
        await using var relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging { level = Debug, requests = on }
              auth.keys = ["sk-client"]
              admin.keys = ["sk-admin-echo"]
              providers { hostile { kind = openai, base-url = "{{url}}v1", api-key = "{{ProviderKey}}", upstream.max-retries = 0 } }
              default-models = off
              models { "m" { routes = [ { provider = hostile } ] } }
            }
            """, services => services.AddSingleton<ILogEventSink>(log));
        using var client = relay.Client("sk-client");
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var answer = await response.Content.ReadAsStringAsync() + string.Join("\n", response.Headers.Select(h => h.Key + ": " + string.Join(",", h.Value)));
        using var admin = relay.Client("sk-admin-echo");
        var providers = await admin.GetStringAsync("/v1/providers");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        foreach (var (where, text) in new[] { ("the answer", answer), ("/v1/providers", providers), ("the log", string.Join("\n", log.Lines)) })
        {
            Assert.False(text.Contains(ProviderKey[..FailureClassifier.MinSecretFragment], StringComparison.Ordinal), $"{where} holds the key's start: {text}");
            Assert.False(text.Contains(ProviderKey[^FailureClassifier.MinSecretFragment..], StringComparison.Ordinal), $"{where} holds the key's end: {text}");
        }
    }
}
