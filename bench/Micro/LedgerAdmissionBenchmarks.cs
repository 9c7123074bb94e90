using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using Orchestrator.Actors.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Bench.Micro;

/// <summary>
/// What the ledger adds to a billed request, as the front pays it: one <see cref="Reserve"/> to the key's actor and its
/// <see cref="Admitted"/> back (the admission, answered from memory), and the <see cref="Settle"/> at the end (told,
/// not awaited). The journal is SQLite (WAL) in a temporary file, as the service runs it: writes follow the answer
/// (PersistAsync) and are batched. <c>Admit</c> measures the round trip alone; <c>AdmitAndSettle</c> adds the
/// settlement, which also writes the usage row.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]   // the mean of a round trip through the ledger's mailboxes is pulled up by the few that wait for a thread
public class LedgerAdmissionBenchmarks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private ActorSystem _system = null!;
    private IActorRef _ledger = null!;
    private string _directory = "";
    private string _keyId = "";
    private long _request;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"orchestrator-ledger-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        var ledger = new LedgerSettings(LedgerStorage.Sqlite, Path.Combine(_directory, "ledger.db"), null, 500);
        SqliteDatabase.Prepare(ledger.DatabaseFile);
        var quiet = ConfigurationFactory.ParseString("akka.loglevel = WARNING");
        _system = ActorSystem.Create("ledger-bench", OrchestratorHosting.WithLedger(quiet, ledger));
        _ledger = _system.ActorOf(LedgerActor.Props(ledger.Options, LedgerStores.Create(ledger)), "ledger");
        var key = LedgerKeys.Create();
        _keyId = key.KeyId;
        var created = _ledger.Ask<object>(new CreateKey(_keyId, "bench", key.SecretHash, 1_000_000m, null, KeyLimits.None, null), Timeout).GetAwaiter().GetResult();
        if (created is not KeyView) throw new InvalidOperationException($"the key was not created: {created}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _system.Terminate().Wait(Timeout);
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Benchmark]
    public async Task<object> Admit()
    {
        var id = "r" + ++_request;
        var reply = await _ledger.Ask<object>(new Reserve(_keyId, id, "bench", 200, 0.0002m), Timeout);
        _ledger.Tell(new Settle(_keyId, Record(id)));   // so reservations do not pile up; not what is timed here
        return reply;
    }

    [Benchmark]
    public async Task<object> AdmitAndSettle()
    {
        var id = "s" + ++_request;
        var reply = await _ledger.Ask<object>(new Reserve(_keyId, id, "bench", 200, 0.0002m), Timeout);
        _ledger.Tell(new Settle(_keyId, Record(id)));
        // The settlement's effect, read back through the same actor: it is behind the Settle in its mailbox.
        await _ledger.Ask<object>(new GetKey(_keyId), Timeout);
        return reply;
    }

    private UsageRecord Record(string id)
    {
        var now = DateTimeOffset.UtcNow;
        return new UsageRecord(id, _keyId, "bench", "mock", 20, 0, 50, 0, 0.0001m, 200, "stop", false, now, now, 1.0);
    }
}
