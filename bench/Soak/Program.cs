using Orchestrator.Bench.Soak;

// The chaos soak (bench/README.md, "Chaos soak"): `Soak [--short] [--duration S] [--concurrency N]` runs the soak and
// exits 1 when a check fails; `Soak relay --config FILE --urls URL` is the relay half it starts as a child process.
if (args is ["relay", .. var relayArgs]) return await RelayHost.RunAsync(relayArgs);
SoakOptions options;
try
{
    options = SoakOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

return await SoakRun.RunAsync(options);
