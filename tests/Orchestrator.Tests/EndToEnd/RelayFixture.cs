namespace Orchestrator.Tests.EndToEnd;

/// <summary>One fake provider and one relay configured with a model per scenario, shared by the end-to-end tests.</summary>
public sealed class RelayFixture : IAsyncLifetime
{
    public const string ClientKey = "sk-test-client";
    public const string UpstreamKey = "sk-upstream-secret";
    public const string AdminKey = "sk-test-admin";

    public FakeUpstream Upstream { get; private set; } = null!;
    public RelayHost Relay { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        Relay = await RelayHost.StartAsync($$"""
            orchestrator {
              logging.level = Warning
              logging.requests = off
              auth.keys = ["{{ClientKey}}", "sk-test-second"]
              admin.keys = ["{{AdminKey}}"]
              # Scenarios here make the simulator fail on purpose with the x-simulator-fault header.
              simulator.allow-fault-header = on
              http.heartbeat-interval = 250ms
              realtime { heartbeat-interval = 300ms, heartbeat-timeout = 600ms, max-message-bytes = 65536, max-concurrent-requests = 200 }
              # Many scenarios here fail on purpose against the same fake provider; the breaker has its own tests.
              upstream { retry-base-delay = 20ms, retry-max-delay = 2s, breaker.max-failures = 1000 }
              model-defaults { first-byte-timeout = 2s, first-token-timeout = 2s, idle-timeout = 2s }
              providers {
                fake  { kind = openai, base-url = "{{Upstream.BaseUrl}}", api-key = "{{UpstreamKey}}" }
                fake2 { kind = openai, base-url = "{{Upstream.BaseUrl}}", api-key = "sk-upstream-two" }
                dead  { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "sk-dead" }
                nokey { kind = openai, base-url = "http://127.0.0.1:1/v1" }
                sim   { kind = simulator, token-delay = 0ms, completion-tokens = 12 }
                slowsim { kind = simulator, token-delay = 700ms, completion-tokens = 2 }
              }
              models {
                "relay"        { routes = [ { provider = fake, model = "upstream-ok" } ] }
                "fallback"     { routes = [ { provider = fake, model = "fail-500" }, { provider = fake2, model = "upstream-ok" } ] }
                "bad-key"      { routes = [ { provider = fake, model = "fail-401" }, { provider = sim } ] }
                "all-fail"     { routes = [ { provider = fake, model = "fail-500" }, { provider = dead, model = "gone" } ] }
                "no-provider"  { routes = [ { provider = nokey } ] }
                "caller-fault" { routes = [ { provider = fake, model = "fail-400" }, { provider = sim } ] }
                "broken"       { routes = [ { provider = fake, model = "bad-json-mid-stream" } ] }
                "endless"      { routes = [ { provider = fake, model = "endless" } ] }
                # A client that stops reading for seconds holds this stream back; a loaded machine must not turn a late
                # read into an idle timeout.
                "firehose"     { idle-timeout = 20s, routes = [ { provider = fake, model = "firehose" } ] }
                "sim"          { routes = [ { provider = sim } ], price { input = 1.5, output = 3 } }
                "slow-sim"     { routes = [ { provider = slowsim } ] }
                "no-done"      { routes = [ { provider = fake, model = "finish-no-done" } ] }
                "finish-hang"  { routes = [ { provider = fake, model = "finish-then-hang" } ] }
                "retry-500"    { routes = [ { provider = fake, model = "500-once" } ] }
                "retry-429"    { routes = [ { provider = fake, model = "429-once" } ] }
                "slow-headers" { routes = [ { provider = fake, model = "slow-headers" }, { provider = fake2, model = "upstream-ok" } ], first-byte-timeout = 300ms }
                "first-token"  { routes = [ { provider = fake, model = "stall-first-token" }, { provider = fake2, model = "upstream-ok" } ], first-token-timeout = 300ms }
                "resume"       { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake2, model = "upstream-ok" } ] }
                "resume-reset" { routes = [ { provider = fake, model = "reset-after-2" }, { provider = fake2, model = "upstream-ok" } ] }
                "resume-idle"  { routes = [ { provider = fake, model = "hang-after-2" }, { provider = fake2, model = "upstream-ok" } ], idle-timeout = 300ms }
                "resume-off"   { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake2, model = "upstream-ok" } ], resume = off }
                "resume-prefill"  { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake2, model = "prefill-ok", prefill = on } ] }
                "prefill-refused" { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake2, model = "prefill-refuse", prefill = on } ] }
                "long-context"    { routes = [ { provider = fake, model = "fail-400" }, { provider = fake2, model = "upstream-ok", large-context = on } ] }
                "resume-diverge"  { routes = [ { provider = fake, model = "cut-after-2" }, { provider = fake2, model = "diverge" } ] }
              }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class RelayCollection : ICollectionFixture<RelayFixture>
{
    public const string Name = "relay";
}
