using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Cli;

/// <summary>
/// <c>Orchestrator keys ...</c>: the admin API's key commands for operators without curl, on the same binary and the
/// same store (the configured ledger), through the same ledger actors. Only while the service is stopped: a ledger has
/// one process running it (<see cref="LedgerOwnership"/>), and while the service runs, this command refuses and names
/// the admin API's calls instead (its ledger actor replays every key at start, which beside a running service would
/// release the service's open reservations and write over its journal).
/// </summary>
public static class KeysCommand
{
    private const string Usage = """
        Usage: dotnet run --project src/Orchestrator -- keys <command> [--config FILE.conf]
          keys create --name NAME [--credit USD] [--models a,b] [--rpm N] [--tpm N] [--max-concurrent N] [--expires-at 2027-01-01T00:00:00Z]
          keys list
          keys show ID
          keys credit ID AMOUNT_USD [--note TEXT]     (a negative amount takes credit away)
          keys revoke ID
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        var (positional, options) = Parse(args);
        if (positional.Count == 0 || options.ContainsKey("help"))
        {
            await Console.Out.WriteLineAsync(Usage);
            return positional.Count == 0 ? 2 : 0;
        }
        var config = HoconLoader.LoadFiles(Path.Combine(AppContext.BaseDirectory, OrchestratorApp.DefaultConfigFile), options.GetValueOrDefault("config"));
        var settings = OrchestratorSettings.FromConfig(config);
        if (settings.Ledger.Storage == LedgerStorage.Memory)
        {
            await Console.Error.WriteLineAsync("orchestrator.ledger.storage is memory: a key made here would vanish when this command ends.");
            return 2;
        }
        if (settings.Ledger.Storage == LedgerStorage.Sqlite) SqliteDatabase.Prepare(settings.Ledger.DatabaseFile);
        LedgerOwnership ownership;
        try
        {
            ownership = LedgerOwnership.Take(settings.Ledger);
        }
        catch (LedgerInUseException ex)
        {
            // Replaying the keys beside the service would release what it holds and take its journal's numbers.
            await Console.Error.WriteLineAsync($"{ex.Ledger} is in use by a running Orchestrator: the keys command would replay its keys " +
                "beside it and undo what it holds. While it runs, use its admin API (POST /admin/keys, GET /admin/keys[/ID], " +
                "POST /admin/keys/ID/credit, DELETE /admin/keys/ID); or stop it first.");
            return 2;
        }
        using var owned = ownership;
        var quiet = ConfigurationFactory.ParseString("akka.loglevel = WARNING, akka.stdout-loglevel = WARNING, akka.log-dead-letters = 0");
        using var system = ActorSystem.Create("orchestrator-keys", quiet.WithFallback(OrchestratorHosting.WithLedger(config, settings.Ledger)));
        try
        {
            var store = LedgerStores.Create(settings.Ledger);
            var ledger = system.ActorOf(LedgerActor.Props(settings.Ledger.Options, store), "ledger");
            return positional[0] switch
            {
                "create" => await CreateAsync(ledger, settings, options),
                "list" => await ListAsync(ledger),
                "show" when positional.Count == 2 => Print(await ledger.Ask<object>(new GetKey(positional[1]), Timeout)),
                "credit" when positional.Count == 3 => await CreditAsync(ledger, positional[1], positional[2], options.GetValueOrDefault("note")),
                "revoke" when positional.Count == 2 => Print(await ledger.Ask<object>(new RevokeKey(positional[1]), Timeout)),
                _ => await Fail(Usage),
            };
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static async Task<int> CreateAsync(IActorRef ledger, OrchestratorSettings settings, Dictionary<string, string> options)
    {
        if (options.GetValueOrDefault("name") is not { Length: > 0 } name) return await Fail("keys create needs --name NAME.");
        if (!TryMoney(options.GetValueOrDefault("credit") ?? "0", out var credit) || credit < 0) return await Fail("--credit must be a number of US dollars, 0 or more.");
        ImmutableArray<string>? models = null;
        if (options.GetValueOrDefault("models") is { } list)
        {
            models = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            if (models.Value.FirstOrDefault(m => !settings.Resolver.TryResolve(m, out _)) is { } unknown)
                return await Fail($"--models names '{unknown}', which is not a configured model.");
        }
        if (!TryLimit(options, "rpm", out var rpm) || !TryLimit(options, "tpm", out var tpm) || !TryLimit(options, "max-concurrent", out var concurrent))
            return await Fail("--rpm, --tpm and --max-concurrent must be whole numbers of at least 1.");
        DateTimeOffset? expires = null;
        if (options.GetValueOrDefault("expires-at") is { } raw)
        {
            if (!Http.AdminJson.TryParseTime(raw, out var at)) return await Fail("--expires-at must be an ISO-8601 time.");
            expires = at;
        }
        var key = LedgerKeys.Create();
        var reply = await ledger.Ask<object>(new CreateKey(key.KeyId, name, key.SecretHash, credit, models, new KeyLimits(rpm, tpm, concurrent), expires), Timeout);
        if (reply is not KeyView view) return Print(reply);
        await Console.Out.WriteLineAsync($"Created {view.KeyId} ({view.Name}) with ${view.BalanceUsd.ToString(CultureInfo.InvariantCulture)} of credit.");
        await Console.Out.WriteLineAsync($"Key (shown this once; only its hash is stored): {key.Secret}");
        return 0;
    }

    private static async Task<int> ListAsync(IActorRef ledger)
    {
        var list = await ledger.Ask<KeyList>(ListKeys.Instance, Timeout);
        await Console.Out.WriteLineAsync($"{"id",-22} {"name",-20} {"balance_usd",14} {"spent_usd",12} {"requests",9} state");
        foreach (var id in list.KeyIds)
        {
            if (await ledger.Ask<object>(new GetKey(id), Timeout) is not KeyView view) continue;
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{view.KeyId,-22} {Truncate(view.Name, 20),-20} {view.BalanceUsd,14:0.######} {view.SpentUsd,12:0.######} {view.Requests,9} {State(view)}"));
        }
        return 0;
    }

    private static async Task<int> CreditAsync(IActorRef ledger, string id, string amount, string? note)
    {
        if (!TryMoney(amount, out var value)) return await Fail("AMOUNT_USD must be a number of US dollars.");
        return Print(await ledger.Ask<object>(new AddCredit(id, value, note), Timeout));
    }

    private static int Print(object reply)
    {
        switch (reply)
        {
            case KeyView view:
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{view.KeyId} ({view.Name}): balance ${view.BalanceUsd:0.######}, spent ${view.SpentUsd:0.######}, reserved ${view.ReservedUsd:0.######}, {view.Requests} requests, {State(view)}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  models: {(view.Models is { } models ? string.Join(", ", models) : "all")}; rpm: {Limit(view.Limits.Rpm)}, tpm: {Limit(view.Limits.Tpm)}, " +
                    $"max_concurrent: {Limit(view.Limits.MaxConcurrent)}; expires: {(view.ExpiresAt is { } at ? at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "never")}"));
                return 0;
            case KeyNotFound notFound:
                Console.Error.WriteLine($"No key with id '{notFound.KeyId}'.");
                return 1;
            case KeyRefused refused:
                Console.Error.WriteLine($"Refused: {refused.Reason}.");
                return 1;
            default:
                Console.Error.WriteLine("The ledger gave an unexpected answer.");
                return 1;
        }
    }

    private static string State(KeyView view) =>
        view.Revoked ? "revoked" : view.ExpiresAt is { } at && at <= DateTimeOffset.UtcNow ? "expired" : "active";

    private static string Limit(int? limit) => limit?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static async Task<int> Fail(string message)
    {
        await Console.Error.WriteLineAsync(message);
        return 2;
    }

    private static bool TryMoney(string text, out decimal value) =>
        decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out value) && Math.Abs(value) <= 1_000_000_000m;

    private static bool TryLimit(Dictionary<string, string> options, string name, out int? limit)
    {
        limit = null;
        if (!options.TryGetValue(name, out var raw)) return true;
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1) return false;
        limit = value;
        return true;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    /// <summary>Positional words, and <c>--name value</c> options (a flag with no value is "true").</summary>
    private static (List<string> Positional, Dictionary<string, string> Options) Parse(string[] args)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                var name = args[i][2..];
                var eq = name.IndexOf('=');
                if (eq > 0) options[name[..eq]] = name[(eq + 1)..];
                else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) options[name] = args[++i];
                else options[name] = "true";
            }
            else positional.Add(args[i]);
        }
        return (positional, options);
    }
}
