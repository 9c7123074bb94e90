using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Actors.Embedding;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Tests.Embedding;

/// <summary>A service that embeds the engine: no HTTP, no sockets, the same actors and routes.</summary>
public sealed class EmbeddedEngineTests
{
    [Fact]
    public async Task Embedded_StreamAndComplete_FromSimulatorInProcess()
    {
        var config = HoconLoader.Load(TestSettings.DefaultsText, """
            orchestrator.providers { local { kind = simulator, token-delay = 0ms, completion-tokens = 7 } }
            orchestrator.models { "house-model" { routes = [ { provider = local } ] } }
            orchestrator.ledger.storage = memory
            """);
        var settings = OrchestratorSettings.FromConfig(config);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOrchestrator(config, settings);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var engine = host.Services.GetRequiredService<OrchestratorClient>();
            var request = ChatRequests.Create("house-model", [("user", "Hello from inside")], includeUsage: true);

            var text = new StringBuilder();
            var usageTokens = 0;
            await foreach (var chunk in engine.StreamAsync(request))
            {
                foreach (var choice in chunk.Choices) text.Append(choice.Delta.Content);
                usageTokens = chunk.Usage?.CompletionTokens ?? usageTokens;
            }
            var completion = await engine.CompleteAsync(request);

            Assert.Equal(7, usageTokens);
            Assert.Equal(completion.Choices[0].Message.Content, text.ToString());   // same prompt, same answer

            var missing = await Assert.ThrowsAsync<OrchestratorException>(() => engine.CompleteAsync(ChatRequests.Create("nope", [("user", "hi")])));
            Assert.Equal(404, missing.Error.Status);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
