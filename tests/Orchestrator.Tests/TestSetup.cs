using System.Runtime.CompilerServices;

namespace Orchestrator.Tests;

internal static class TestSetup
{
    // Every TestKit test builds an ActorSystem, and TestKit's constructor and shutdown block a pool thread while
    // actors need one too. On a two-core machine that starved the pool into 0.5-1 s stalls per test.
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum() => ThreadPool.SetMinThreads(Math.Max(16, Environment.ProcessorCount), 16);
}
