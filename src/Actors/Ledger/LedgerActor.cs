using System.Collections.Immutable;
using Akka;
using Akka.Actor;
using Akka.Event;
using Orchestrator.Actors.Ledger.Storage;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger;

/// <summary>
/// The ledger (<c>ledger</c>): the directory of keys (secret hash -> key id, from the keys table) and the parent of
/// one <see cref="KeyActor"/> per key, to which it routes every <see cref="IKeyMessage"/> by its key id, as a shard
/// region would. Until the keys are loaded it holds messages back (and says it is not ready). At start it wakes every
/// live key, so reservations a previous run left open are released at once, not when the key is next used.
/// </summary>
public sealed class LedgerActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private const string ReloadTimer = "reload";
    private sealed record KeysLoaded(IReadOnlyList<KeyRow> Keys);
    private sealed record LoadFailed(Exception Cause);
    private sealed record Reload
    {
        public static readonly Reload Instance = new();
    }
    private sealed record KeyInserted(CreateKey Create, KeyRow Row, IActorRef ReplyTo);
    private sealed record InsertFailed(CreateKey Create, Exception Cause, IActorRef ReplyTo);
    private sealed record KeyFound(KeyRow? Row, string SecretHash, IActorRef ReplyTo);

    private readonly LedgerOptions _options;
    private readonly ILedgerStore _store;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, KeyRow> _byHash = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KeyRow> _byId = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private IActorRef _recorder = ActorRefs.Nobody;
    private string _notReady = "the ledger is loading its keys";
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(3);   // within the shutdown phase's 5 s

    public LedgerActor(LedgerOptions options, ILedgerStore store)
    {
        _options = options;
        _store = store;
        Loading();
    }

    public static Props Props(LedgerOptions options, ILedgerStore store) => Akka.Actor.Props.Create(() => new LedgerActor(options, store));

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        _recorder = Context.ActorOf(UsageRecorderActor.Props(_store, _options.UsageFlushInterval), "usage");
        Load();
        // A clean stop (the host's, after its HTTP requests have ended) first writes what every key holds for its next
        // group commit: settlements waiting for their window would otherwise go unbilled.
        var self = Self;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseServiceStop, "ledger-write-groups", async () =>
        {
            try
            {
                await self.Ask<LedgerFlushed>(FlushLedger.Instance, FlushTimeout);
            }
            catch (Exception)
            {
                // Too slow, or the ledger already gone: the stop goes on; what was not written is lost as on a kill.
            }
            return Done.Instance;
        });
    }

    private void Load() => LoadAsync().PipeTo(Self, success: keys => new KeysLoaded(keys), failure: ex => new LoadFailed(ex));

    private async Task<IReadOnlyList<KeyRow>> LoadAsync()
    {
        await _store.EnsureCreatedAsync(CancellationToken.None);
        return await _store.ListKeysAsync(CancellationToken.None);
    }

    // ---- states ------------------------------------------------------------------------------------------------

    private void Loading()
    {
        Receive<KeysLoaded>(loaded =>
        {
            foreach (var row in loaded.Keys) Add(row);
            // Wake every live key: its recovery releases what a previous run left reserved.
            foreach (var row in loaded.Keys.Where(r => r.RevokedAt is null)) Child(row.KeyId);
            _log.Info("Ledger ready with {Count} keys", loaded.Keys.Count);
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<LoadFailed>(failed =>
        {
            _notReady = $"the ledger's database could not be read: {failed.Cause.Message}";
            _log.Error(failed.Cause, "Ledger: loading the keys failed; trying again in 5s");
            Timers.StartSingleTimer(ReloadTimer, Reload.Instance, TimeSpan.FromSeconds(5));
        });
        Receive<Reload>(_ => Load());
        Receive<GetLedgerStatus>(_ => Sender.Tell(new LedgerStatus(false, _notReady)));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<GetLedgerStatus>(_ => Sender.Tell(new LedgerStatus(true, null)));
        Receive<IdentifyKey>(OnIdentify);
        Receive<KeyFound>(OnKeyFound);
        Receive<CreateKey>(OnCreateKey);
        Receive<KeyInserted>(inserted =>
        {
            Add(inserted.Row);
            Child(inserted.Create.KeyId).Tell(inserted.Create, inserted.ReplyTo);
        });
        Receive<InsertFailed>(failed => failed.ReplyTo.Tell(new KeyRefused(failed.Create.KeyId, failed.Cause is LedgerKeyConflictException
            ? "a key with this id or secret exists"
            : "the ledger's database refused the key")));
        Receive<ListKeys>(_ => Sender.Tell(new KeyList([.. _order])));
        Receive<RecordUsage>(record => _recorder.Forward(record));
        Receive<RevokeKey>(revoke =>
        {
            if (!Route(revoke)) return;
            var row = _byId[revoke.KeyId] with { RevokedAt = Context.System.Scheduler.Now };
            Replace(row);
            Update(row);
        });
        Receive<ChangeKey>(change =>
        {
            if (!Route(change) || !change.Name.Set) return;
            var row = _byId[change.KeyId] with { Name = change.Name.Value };
            Replace(row);
            Update(row);
        });
        Receive<FlushLedger>(_ => FlushKeys(Sender));
        Receive<IKeyMessage>(message => Route(message));
    }

    /// <summary>Every live key writes its group now; the asker hears when all have.</summary>
    private void FlushKeys(IActorRef replyTo)
    {
        var keys = _byId.Keys.Select(id => (Id: id, Actor: Context.Child(ChildName(id)))).Where(k => !k.Actor.IsNobody()).ToList();
        Task.WhenAll(keys.Select(k => k.Actor.Ask<KeyFlushed>(new FlushKey(k.Id), FlushTimeout)))
            .PipeTo(replyTo, success: flushed => new LedgerFlushed(flushed.Length), failure: ex => new Status.Failure(ex));
    }

    // ---- keys --------------------------------------------------------------------------------------------------

    private void OnIdentify(IdentifyKey identify)
    {
        if (_byHash.TryGetValue(identify.SecretHash, out var row))
        {
            Sender.Tell(Identified(row));
            return;
        }
        // Not known here: perhaps made by the CLI (or another node) since the keys were loaded.
        var replyTo = Sender;
        var hash = identify.SecretHash;
        _store.FindKeyByHashAsync(hash, CancellationToken.None).PipeTo(Self,
            success: found => new KeyFound(found, hash, replyTo),
            failure: _ => new KeyFound(null, hash, replyTo));
    }

    private void OnKeyFound(KeyFound found)
    {
        if (found.Row is not { } row)
        {
            found.ReplyTo.Tell(new KeyNotIdentified("Incorrect API key provided."));
            return;
        }
        if (!_byId.ContainsKey(row.KeyId)) Add(row);
        found.ReplyTo.Tell(Identified(row));
    }

    private static object Identified(KeyRow row) => row.RevokedAt is null
        ? new KeyIdentified(row.KeyId)
        : new KeyNotIdentified("This API key has been revoked.");

    private void OnCreateKey(CreateKey create)
    {
        var replyTo = Sender;
        if (_byId.ContainsKey(create.KeyId) || _byHash.ContainsKey(create.SecretHash))
        {
            replyTo.Tell(new KeyRefused(create.KeyId, "a key with this id or secret exists"));
            return;
        }
        // The row first: a key whose journal never got its KeyCreated is refused as unknown by its actor, while a
        // journal without a row would be a key nobody could look up.
        var row = new KeyRow(create.KeyId, create.Name, create.SecretHash, Context.System.Scheduler.Now, null);
        _store.InsertKeyAsync(row, CancellationToken.None).PipeTo(Self,
            success: () => new KeyInserted(create, row, replyTo),
            failure: ex => new InsertFailed(create, ex, replyTo));
    }

    private bool Route(IKeyMessage message)
    {
        if (_byId.ContainsKey(message.KeyId))
        {
            Child(message.KeyId).Forward(message);
            return true;
        }
        switch (message)
        {
            case Reserve reserve:
                Sender.Tell(new NotAdmitted(reserve.RequestId, ApiError.InvalidApiKey("Incorrect API key provided.")));
                break;
            case Settle or UsageWritten:
                break;
            default:
                Sender.Tell(new KeyNotFound(message.KeyId));
                break;
        }
        return false;
    }

    private static string ChildName(string keyId) => "key-" + keyId;

    private IActorRef Child(string keyId)
    {
        var name = ChildName(keyId);
        var child = Context.Child(name);
        return child.IsNobody() ? Context.ActorOf(KeyActor.Props(keyId, _options, _recorder), name) : child;
    }

    private void Add(KeyRow row)
    {
        _byHash[row.SecretHash] = row;
        _byId[row.KeyId] = row;
        _order.Add(row.KeyId);
    }

    private void Replace(KeyRow row)
    {
        _byHash[row.SecretHash] = row;
        _byId[row.KeyId] = row;
    }

    private void Update(KeyRow row) =>
        _store.UpdateKeyAsync(row.KeyId, row.Name, row.RevokedAt, CancellationToken.None).ContinueWith(task =>
        {
            if (task.IsFaulted) _log.Warning("Ledger: the keys table was not updated for {KeyId}: {Reason}", row.KeyId, task.Exception?.GetBaseException().Message);
        }, TaskScheduler.Default);
}
