using Orchestrator;
using Orchestrator.Actors.Settings;

// Orchestrator: an OpenAI-compatible relay. See README.md; configuration in hocon/orchestrator.conf.
try
{
    if (args is ["keys", .. var rest]) return await Orchestrator.Cli.KeysCommand.RunAsync(rest);   // the key CLI (README "Keys and credits")
    var app = OrchestratorApp.Build(args);
    await app.RunAsync();
    return 0;
}
catch (InvalidConfigException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
catch (Orchestrator.Actors.Ledger.Storage.LedgerInUseException ex)
{
    await Console.Error.WriteLineAsync($"{ex.Message} One process runs a ledger at a time: stop the other one, or give this one " +
        "a ledger of its own (orchestrator.ledger.path, or connection-string for PostgreSQL).");
    return 2;
}
