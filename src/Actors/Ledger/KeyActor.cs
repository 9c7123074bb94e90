using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Telemetry;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Actors.Ledger;

/// <summary>
/// One key's ledger (<c>ledger/key-ID</c>), event-sourced: its balance, reservations, limits and request count live
/// here and nowhere else, rebuilt from its journal. Written as a sharding entity: the entity id is the key id, every
/// message it takes names it (<see cref="IKeyMessage"/>), and it keeps no state outside itself, so the same actor can
/// run under Akka.Cluster.Sharding. Admission answers from memory; the journal write of a reservation or a settlement
/// follows (PersistAllAsync), grouped: the reservations and settlements of <see cref="LedgerOptions.GroupCommit"/> go
/// to the journal as one write, so a busy key costs one database transaction per group rather than two per request.
/// A reservation is written only once its request has run <see cref="LedgerOptions.ReserveWriteDelay"/>: most
/// requests end sooner and write one event, their settlement (applied to a state that never held them, it spends
/// the same), and a process that dies meanwhile loses only holds nobody was billed for.
/// </summary>
public sealed class KeyActor : ReceivePersistentActor, IWithTimers
{
    private const string SweepTimer = "reservation-timeout";
    private const string GroupCommitTimer = "group-commit";
    private const string ReserveWriteTimer = "reserve-write-delay";
    private sealed record ReserveWriteDue
    {
        public static readonly ReserveWriteDue Instance = new();
    }
    private sealed record GroupCommitDue
    {
        public static readonly GroupCommitDue Instance = new();
    }
    private sealed record SweepTick
    {
        public static readonly SweepTick Instance = new();
    }

    private readonly string _keyId;
    private readonly LedgerOptions _options;
    private readonly IActorRef _recorder;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Reserved> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UsageRecord> _unrecorded = new(StringComparer.Ordinal);

    private KeyCreated? _created;
    private string _name = "";
    private ImmutableArray<string>? _models;
    private ImmutableHashSet<string>? _allowed;
    private KeyLimits _limits = KeyLimits.None;
    private DateTimeOffset? _expiresAt;
    private DateTimeOffset? _revokedAt;
    private decimal _credited;
    private decimal _spent;
    private decimal _reserved;
    private long _requests;
    private int _pendingWrites;       // events applied but not yet written (grouped or in flight): no snapshot until there are none
    private readonly List<IKeyEvent> _group = [];   // applied, waiting for the group's write
    private readonly Dictionary<string, Reserved> _unwritten = new(StringComparer.Ordinal);   // open, younger than reserve-write-delay: not journaled
    private long _sinceSnapshot;
    private RateBucket? _rpm;
    private RateBucket? _tpm;

    public KeyActor(string keyId, LedgerOptions options, IActorRef recorder)
    {
        _keyId = keyId;
        _options = options;
        _recorder = recorder;
        Recover<SnapshotOffer>(offer => Restore((KeySnapshot)offer.Snapshot));
        Recover<IKeyEvent>(Apply);
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<CreateKey>(OnCreateKey);
        Command<Reserve>(OnReserve);
        Command<Settle>(OnSettle);
        Command<AddCredit>(OnAddCredit);
        Command<ChangeKey>(OnChangeKey);
        Command<RevokeKey>(OnRevoke);
        Command<GetKey>(_ => Sender.Tell(_created is null ? new KeyNotFound(_keyId) : View()));
        Command<UsageWritten>(written =>
        {
            foreach (var id in written.RequestIds) _unrecorded.Remove(id);
            MaybeSnapshot();
        });
        Command<SweepTick>(_ => Sweep());
        Command<GroupCommitDue>(_ => WriteGroup());
        Command<FlushKey>(OnFlush);
        Command<ReserveWriteDue>(_ => WriteOldReservations());
        Command<SaveSnapshotSuccess>(saved => DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed => _log.Warning("Key {KeyId}: snapshot not saved: {Reason}", _keyId, failed.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public static Props Props(string keyId, LedgerOptions options, IActorRef recorder) =>
        Akka.Actor.Props.Create(() => new KeyActor(keyId, options, recorder));

    public override string PersistenceId => "key-" + _keyId;

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    // ---- recovery ----------------------------------------------------------------------------------------------

    private void OnRecovered()
    {
        if (_created is null) return;
        StartLimits();
        // A reservation still open was made by a process that died with its request: nothing will settle it.
        var orphans = _open.Values.Select(r => new Released(r.RequestId, "the process ended before the request did", Now)).ToList();
        if (orphans.Count > 0)
        {
            _log.Info("Key {KeyId}: releasing {Count} reservations left by a previous run", _keyId, orphans.Count);
            PersistAll(orphans, released => { Apply(released); Written(); });
        }
        // Settlements after the last snapshot may not have reached the usage table: it ignores what it already has.
        foreach (var record in _unrecorded.Values) _recorder.Tell(new RecordUsage(_keyId, record));
        Timers.StartPeriodicTimer(SweepTimer, SweepTick.Instance, _options.ReservationTimeout / 4);
    }

    private void Restore(KeySnapshot snapshot)
    {
        _created = snapshot.Created;
        _credited = snapshot.CreditedUsd;
        _spent = snapshot.SpentUsd;
        _requests = snapshot.Requests;
        SetTerms(snapshot.Name, snapshot.Models, snapshot.Limits, snapshot.ExpiresAt);
        _revokedAt = snapshot.RevokedAt;
        _open.Clear();
        _reserved = 0;
        foreach (var reserved in snapshot.Open) Apply(reserved);
    }

    /// <summary>Every state change, live and in recovery alike.</summary>
    private void Apply(IKeyEvent e)
    {
        switch (e)
        {
            case KeyCreated created:
                _created = created;
                _credited = created.CreditUsd;
                SetTerms(created.Name, created.Models, created.Limits, created.ExpiresAt);
                break;
            case CreditAdded credit:
                _credited += credit.AmountUsd;
                break;
            case LimitsChanged changed:
                SetTerms(changed.Name, changed.Models, changed.Limits, changed.ExpiresAt);
                break;
            case Reserved reserved:
                // Once: a snapshot may already hold a reservation whose event was written after it was taken.
                if (_open.TryAdd(reserved.RequestId, reserved)) _reserved += reserved.CostUsd;
                break;
            case Settled settled:
                ApplySettled(settled.Record);
                break;
            case SettledBatch batch:
                foreach (var record in batch.Records) ApplySettled(record);
                break;
            case Released released:
                if (_open.Remove(released.RequestId, out var freed)) _reserved -= freed.CostUsd;
                break;
            case Revoked revoked:
                _revokedAt = revoked.At;
                break;
        }
    }

    private void ApplySettled(UsageRecord record)
    {
        if (_open.Remove(record.RequestId, out var held)) _reserved -= held.CostUsd;
        _spent += record.CostUsd;
        _requests++;
        if (IsRecovering) _unrecorded[record.RequestId] = record;
    }

    private void SetTerms(string name, ImmutableArray<string>? models, KeyLimits limits, DateTimeOffset? expiresAt)
    {
        _name = name;
        _models = models;
        _allowed = models?.ToImmutableHashSet(StringComparer.Ordinal);
        var changed = limits != _limits;
        _limits = limits;
        _expiresAt = expiresAt;
        if (changed && !IsRecovering) StartLimits();
    }

    private void StartLimits()
    {
        _rpm = _limits.Rpm is { } rpm ? new RateBucket(rpm, Now) : null;
        _tpm = _limits.Tpm is { } tpm ? new RateBucket(tpm, Now) : null;
    }

    // ---- admin commands ----------------------------------------------------------------------------------------

    private void OnCreateKey(CreateKey create)
    {
        if (_created is not null)
        {
            Sender.Tell(new KeyRefused(_keyId, "a key with this id exists"));
            return;
        }
        var created = new KeyCreated(_keyId, create.Name, create.SecretHash, create.CreditUsd, create.Models, create.Limits, create.ExpiresAt, Now);
        Persist(created, e =>
        {
            Apply(e);
            StartLimits();
            Timers.StartPeriodicTimer(SweepTimer, SweepTick.Instance, _options.ReservationTimeout / 4);
            Written();
            Sender.Tell(View());
        });
    }

    private void OnAddCredit(AddCredit credit)
    {
        if (_created is null)
        {
            Sender.Tell(new KeyNotFound(_keyId));
            return;
        }
        Persist(new CreditAdded(credit.AmountUsd, credit.Note, Now), e =>
        {
            Apply(e);
            Written();
            Sender.Tell(View());
        });
    }

    private void OnChangeKey(ChangeKey change)
    {
        if (_created is null)
        {
            Sender.Tell(new KeyNotFound(_keyId));
            return;
        }
        var limits = new KeyLimits(
            change.Rpm.Set ? change.Rpm.Value : _limits.Rpm,
            change.Tpm.Set ? change.Tpm.Value : _limits.Tpm,
            change.MaxConcurrent.Set ? change.MaxConcurrent.Value : _limits.MaxConcurrent);
        var changed = new LimitsChanged(change.Name.Set ? change.Name.Value : _name, change.Models.Set ? change.Models.Value : _models, limits,
            change.ExpiresAt.Set ? change.ExpiresAt.Value : _expiresAt, Now);
        Persist(changed, e =>
        {
            Apply(e);
            Written();
            Sender.Tell(View());
        });
    }

    private void OnRevoke(RevokeKey revoke)
    {
        if (_created is null)
        {
            Sender.Tell(new KeyNotFound(_keyId));
            return;
        }
        if (_revokedAt is not null)
        {
            Sender.Tell(View());
            return;
        }
        Persist(new Revoked(Now), e =>
        {
            Apply(e);
            Written();
            Sender.Tell(View());
        });
    }

    // ---- requests ----------------------------------------------------------------------------------------------

    private void OnReserve(Reserve reserve)
    {
        if (Refusal(reserve) is { } refused)
        {
            OrchestratorMetrics.RecordRefusal(_keyId, refused.Reason);
            Sender.Tell(new NotAdmitted(reserve.RequestId, refused.Error));
            return;
        }
        var reserved = new Reserved(reserve.RequestId, reserve.Model, reserve.Tokens, reserve.CostUsd, Now);
        Apply(reserved);   // at once: the next request must see this one's hold
        Sender.Tell(_rpm is null && _tpm is null ? new Admitted(reserve.RequestId) : new Admitted(reserve.RequestId) { Headers = LimitHeaders(reserved.At) });
        if (_options.ReserveWriteDelay <= TimeSpan.Zero)
        {
            WriteLater(reserved);
            return;
        }
        _unwritten[reserved.RequestId] = reserved;
        if (!Timers.IsTimerActive(ReserveWriteTimer)) Timers.StartSingleTimer(ReserveWriteTimer, ReserveWriteDue.Instance, _options.ReserveWriteDelay);
    }

    /// <summary>The reservations of requests still running after reserve-write-delay go to the journal; the timer follows the next oldest.</summary>
    private void WriteOldReservations()
    {
        var cutoff = Now - _options.ReserveWriteDelay;
        DateTimeOffset? nextOldest = null;
        foreach (var reserved in _unwritten.Values.ToList())
        {
            if (reserved.At <= cutoff)
            {
                _unwritten.Remove(reserved.RequestId);
                WriteLater(reserved);
            }
            else if (nextOldest is null || reserved.At < nextOldest) nextOldest = reserved.At;
        }
        if (nextOldest is { } oldest)
            Timers.StartSingleTimer(ReserveWriteTimer, ReserveWriteDue.Instance, Max(oldest - cutoff, TimeSpan.FromMilliseconds(1)));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// Takes a request's reservation out of what is still to be written (not yet old enough, or waiting in the group);
    /// true when its event never reached the journal, so what ends it needs no event of its own to undo it.
    /// </summary>
    private bool Unwrite(string requestId)
    {
        if (_unwritten.Remove(requestId)) return true;
        var grouped = _group.FindIndex(e => e is Reserved r && r.RequestId == requestId);
        if (grouped < 0) return false;
        _group.RemoveAt(grouped);
        _pendingWrites--;
        return true;
    }

    /// <summary>Why a request is not admitted: the client's error, and the reason the refusals metric counts it under.</summary>
    private sealed record Refused(ApiError Error, string Reason);

    private Refused? Refusal(Reserve reserve)
    {
        if (_created is null) return new(ApiError.InvalidApiKey("Incorrect API key provided."), "unknown");
        if (_revokedAt is not null) return new(ApiError.InvalidApiKey("This API key has been revoked."), "revoked");
        if (_expiresAt is { } expires && expires <= Now) return new(ApiError.InvalidApiKey($"This API key expired at {expires:yyyy-MM-ddTHH:mm:ssZ}."), "expired");
        // A model nobody configured, or one outside the allow-list: the same words, suggesting only what the key may use.
        if (reserve.UnknownModel is { } closest)
            return new(ModelCatalog.NotFound(reserve.Model, _allowed is null ? closest : ModelCatalog.Closest(reserve.Model, _allowed)), "model");
        if (_allowed is not null && !_allowed.Contains(reserve.Model))
            return new(ModelCatalog.NotFound(reserve.Model, ModelCatalog.Closest(reserve.Model, _allowed)), "model");
        if (_open.ContainsKey(reserve.RequestId)) return new(ApiError.InvalidRequest($"Request id '{ApiError.Quote(reserve.RequestId)}' is already in flight.", null), "other");
        var now = Now;
        if (_limits.MaxConcurrent is { } max && _open.Count >= max)
            return new(RateLimited($"This key already has {max} {(max == 1 ? "request" : "requests")} in flight, its max_concurrent limit in this relay.", TimeSpan.FromSeconds(1), now), "max_concurrent");
        if (_rpm is not null && !_rpm.TryTake(1, now, out var rpmWait))
            return new(RateLimited($"Rate limit reached for this key: {_rpm.Capacity} requests per minute (a limit this relay sets on the key, not the provider's).", rpmWait, now), "rpm");
        if (_tpm is not null && !_tpm.TryTake(reserve.Tokens, now, out var tpmWait))
        {
            _rpm?.Give(1);   // the request is refused: it took no request
            return new(RateLimited($"Rate limit reached for this key: {_tpm.Capacity} tokens per minute (a limit this relay sets on the key, not the provider's); this request reserves {reserve.Tokens}.", tpmWait, now, "tokens"), "tpm");
        }
        var available = _credited - _spent - _reserved;
        if (available < reserve.CostUsd)
        {
            _rpm?.Give(1);
            _tpm?.Give(reserve.Tokens);
            return new(new ApiError(402,
                $"This key's balance cannot cover the request: it reserves up to ${reserve.CostUsd:0.######} (its prompt and max tokens at the model's prices) and ${Math.Max(0, available):0.######} is available. Add credit, or send a lower max_tokens.",
                "insufficient_quota", null, "insufficient_quota"), "balance");
        }
        return null;
    }

    private ApiError RateLimited(string message, TimeSpan wait, DateTimeOffset now, string type = "requests")
    {
        var headers = new List<KeyValuePair<string, string>> { new("Retry-After", Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString()) };
        headers.AddRange(LimitHeaders(now));
        return new ApiError(429, message + $" Retry after {RateBucket.Format(wait)}.", type, null, "rate_limit_exceeded") { Headers = headers };
    }

    /// <summary>OpenAI's <c>x-ratelimit-*</c> headers for the key's rpm and tpm buckets as they stand.</summary>
    private List<KeyValuePair<string, string>> LimitHeaders(DateTimeOffset now)
    {
        var headers = new List<KeyValuePair<string, string>>(6);
        if (_rpm is not null)
        {
            headers.Add(new("x-ratelimit-limit-requests", _rpm.Capacity.ToString()));
            headers.Add(new("x-ratelimit-remaining-requests", _rpm.Remaining(now).ToString()));
            headers.Add(new("x-ratelimit-reset-requests", RateBucket.Format(_rpm.UntilFull(now))));
        }
        if (_tpm is not null)
        {
            headers.Add(new("x-ratelimit-limit-tokens", _tpm.Capacity.ToString()));
            headers.Add(new("x-ratelimit-remaining-tokens", _tpm.Remaining(now).ToString()));
            headers.Add(new("x-ratelimit-reset-tokens", RateBucket.Format(_tpm.UntilFull(now))));
        }
        return headers;
    }

    /// <summary>The group written now, not at its window's end; the asker told once it and every earlier write are in.</summary>
    private void OnFlush(FlushKey flush)
    {
        Timers.Cancel(GroupCommitTimer);
        WriteGroup();
        var asker = Sender;
        DeferAsync(flush, _ => asker.Tell(new KeyFlushed(_keyId)));
    }

    private void OnSettle(Settle settle)
    {
        var record = settle.Record;
        // Settled once: a repeat, or a request whose reservation was already released, finds nothing open.
        if (!_open.TryGetValue(record.RequestId, out var held)) return;
        _tpm?.Give(held.Tokens - (record.InputTokens + record.OutputTokens));
        var settled = new Settled(record);
        Apply(settled);
        OrchestratorMetrics.RecordCost(record.Model, _keyId, record.CostUsd);
        Unwrite(record.RequestId);   // a settlement replayed without its reservation spends the same
        WriteLater(settled);         // joined with the group's other settlements into one SettledBatch
    }

    private void Sweep()
    {
        var cutoff = Now - _options.ReservationTimeout;
        var stale = _open.Values.Where(r => r.At < cutoff).Select(r => new Released(r.RequestId, "no settlement within reservation-timeout", Now)).ToList();
        if (stale.Count == 0) return;
        _log.Warning("Key {KeyId}: {Count} requests never settled within reservation-timeout; releasing their reservations", _keyId, stale.Count);
        foreach (var released in stale)
        {
            Apply(released);
            if (!Unwrite(released.RequestId)) WriteLater(released);
        }
    }

    /// <summary>
    /// An event already applied, for the next group write: within group-commit of the first one, or at once when the
    /// delay is zero (then what is already in the mailbox still joins it).
    /// </summary>
    private void WriteLater(IKeyEvent e)
    {
        _pendingWrites++;
        _group.Add(e);
        if (_group.Count > 1) return;
        if (_options.GroupCommit > TimeSpan.Zero) Timers.StartSingleTimer(GroupCommitTimer, GroupCommitDue.Instance, _options.GroupCommit);
        else Self.Tell(GroupCommitDue.Instance);
    }

    private void WriteGroup()
    {
        if (_group.Count == 0) return;
        var group = Batched(_group);
        _group.Clear();
        PersistAllAsync(group, e =>
        {
            ImmutableArray<UsageRecord> settled = e switch
            {
                Settled one => [one.Record],
                SettledBatch batch => batch.Records,
                _ => [],
            };
            foreach (var record in settled) Recorded(record);
            Written(async: true, events: Math.Max(1, settled.Length));
        });
    }

    /// <summary>The group as written: its settlements as one <see cref="SettledBatch"/> where the first one was, when there are several.</summary>
    private static List<IKeyEvent> Batched(List<IKeyEvent> group)
    {
        var settled = group.OfType<Settled>().Select(s => s.Record).ToImmutableArray();
        if (settled.Length < 2) return [.. group];
        var written = new List<IKeyEvent>(group.Count - settled.Length + 1);
        var batched = false;
        foreach (var e in group)
        {
            if (e is not Settled) written.Add(e);
            else if (!batched)
            {
                written.Add(new SettledBatch(settled));
                batched = true;
            }
        }
        return written;
    }

    /// <summary>A settlement is in the journal: its usage row goes to the table, and stays owed until the table says it has it.</summary>
    private void Recorded(UsageRecord record)
    {
        _unrecorded[record.RequestId] = record;
        _recorder.Tell(new RecordUsage(_keyId, record));
    }

    // ---- snapshots ---------------------------------------------------------------------------------------------

    /// <param name="events">How many applied events the write covered (a batch covers one per record).</param>
    private void Written(bool async = false, int events = 1)
    {
        if (async) _pendingWrites -= events;
        _sinceSnapshot += events;
        MaybeSnapshot();
    }

    /// <summary>
    /// Only when nothing is in flight: the state applies a reservation or settlement before its write lands, and a
    /// snapshot must not hold what the journal after it will replay again. Nor before every settlement it covers
    /// is in the usage table, since recovery resends only what follows the snapshot.
    /// </summary>
    private void MaybeSnapshot()
    {
        if (_sinceSnapshot < _options.SnapshotEvery || _pendingWrites > 0 || _unrecorded.Count > 0 || _created is null) return;
        _sinceSnapshot = 0;
        SaveSnapshot(new KeySnapshot(_created, _credited, _spent, _requests, _name, _models, _limits, _expiresAt, _revokedAt, [.. _open.Values]));
    }

    private KeyView View() => new(_keyId, _name, _credited - _spent, _spent, _reserved, _credited, _requests, _models, _limits,
        _expiresAt, _revokedAt is not null, _created!.At);
}
