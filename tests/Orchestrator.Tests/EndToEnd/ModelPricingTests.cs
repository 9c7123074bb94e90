using System.ClientModel;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Models;
using Serilog.Core;
using Serilog.Events;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>GET /v1/models shows each model's price and context window; a model with no price is warned about at start.</summary>
public sealed class ModelPricingTests : IAsyncLifetime
{
    private sealed class WarningSink : ILogEventSink
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public void Emit(LogEvent logEvent)
        {
            Lines.Enqueue(logEvent.Level + " " + logEvent.RenderMessage());
        }
    }

    private readonly WarningSink _sink = new();
    private RelayHost _relay = null!;

    public async Task InitializeAsync() => _relay = await RelayHost.StartAsync("""
        orchestrator {
          logging { level = Warning, requests = off }
          auth.keys = ["sk-test-client"]
          providers { sim { kind = simulator } }
          default-models = off   # the list these models make, alone
          models {
            "gpt-4.1"   { routes = [ { provider = sim } ] }
            "own-price" { routes = [ { provider = sim, model = "gpt-4o" } ], price { input = 1.10, output = 4.40, cached-input = 0.275 } }
            "free"      { routes = [ { provider = sim } ], price { input = 0, output = 0 } }
            "unpriced"  { routes = [ { provider = sim, model = "local-llama" } ] }
          }
        }
        """, services => services.AddSingleton<ILogEventSink>(_sink));

    public async Task DisposeAsync() => await _relay.DisposeAsync();

    [Fact]
    public async Task Models_ShowPricingAndContextWindow_AbsentWhereUnknown()
    {
        using var client = _relay.Client();
        var data = (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray()
            .ToDictionary(m => m.GetProperty("id").GetString()!);

        var catalogue = data["gpt-4.1"];
        Assert.Equal("""{"input_usd_per_mtok":2,"output_usd_per_mtok":8,"cached_input_usd_per_mtok":0.5}""", catalogue.GetProperty("pricing").GetRawText());
        Assert.Equal(1047576, catalogue.GetProperty("context_window").GetInt32());

        var own = data["own-price"];   // the operator's price; the window from the upstream model's catalogue entry
        Assert.Equal("""{"input_usd_per_mtok":1.1,"output_usd_per_mtok":4.4,"cached_input_usd_per_mtok":0.275}""", own.GetProperty("pricing").GetRawText());
        Assert.Equal(128000, own.GetProperty("context_window").GetInt32());

        Assert.Equal(0m, data["free"].GetProperty("pricing").GetProperty("output_usd_per_mtok").GetDecimal());
        Assert.False(data["unpriced"].TryGetProperty("pricing", out _));
        Assert.False(data["unpriced"].TryGetProperty("context_window", out _));
        Assert.All(data.Values, m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task Models_TheOfficialSdk_StillParsesTheList()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential("sk-test-client"), new OpenAIClientOptions { Endpoint = new Uri(_relay.BaseUrl, "/v1") });
        var list = (await models.GetModelsAsync()).Value;
        Assert.Equal(["gpt-4.1", "own-price", "free", "unpriced"], list.Select(m => m.Id));
    }

    [Fact]
    public void Start_ModelWithNoPriceAnywhere_IsWarnedAboutByName()
    {
        var warnings = _sink.Lines.Where(l => l.Contains("has no price")).ToList();
        Assert.True(warnings.Count == 1, "log: " + string.Join("\n", _sink.Lines));
        var warning = warnings[0];
        Assert.StartsWith("Warning ", warning);
        Assert.Contains("unpriced", warning);
        Assert.Contains("local-llama", warning);
        Assert.Contains("cost 0", warning);
    }
}
