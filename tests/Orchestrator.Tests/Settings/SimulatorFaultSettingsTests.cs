using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Simulator;

namespace Orchestrator.Tests.Settings;

public sealed class SimulatorFaultSettingsTests
{
    // A file that sets providers replaces them all, so it sets models that use only its own.
    private static OrchestratorSettings WithSimulatorFault(string fault) => TestSettings.From($$"""
        orchestrator.providers.simulator { kind = simulator, fault = "{{fault}}" }
        orchestrator.models { sim { routes = [ { provider = simulator } ] } }
        """);

    [Fact]
    public void Defaults_SimulatorHasNoFault()
    {
        Assert.Null(TestSettings.From("").Providers["simulator"].Simulator.Fault);
    }

    [Fact]
    public void ProviderFault_IsParsedIntoThePlan()
    {
        var settings = WithSimulatorFault("status=503; retry-after=2s; times=2");
        Assert.Equal(new FaultPlan { Status = 503, RetryAfter = TimeSpan.FromSeconds(2), Times = 2 }, settings.Providers["simulator"].Simulator.Fault);
    }

    [Fact]
    public void ProviderFault_Invalid_FailsStartupNamingTheKey()
    {
        var ex = Assert.Throws<InvalidConfigException>(() => WithSimulatorFault("drop-after=lots"));
        Assert.Equal("orchestrator.providers.simulator.fault", ex.Key);
        Assert.Contains("drop-after", ex.Message);
    }
}
