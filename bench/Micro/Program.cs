using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Micro -- --filter '*'      (see bench/README.md)
BenchmarkSwitcher.FromAssembly(typeof(Orchestrator.Bench.Micro.SseFramingBenchmarks).Assembly).Run(args);
