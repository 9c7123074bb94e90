using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Http;

/// <summary>Who a client is: the configured key it used ("key-2"), or a ledger key (its id, also the caller's name).</summary>
public sealed record ClientIdentity(string Caller, string? KeyId);

/// <summary>
/// Tells client keys apart for every front: the config's own <c>auth.keys</c> (unlimited, unbilled; compared in
/// constant time, no message sent) and the ledger's <c>sk-orc-</c> keys (looked up by their SHA-256 in the ledger's
/// directory: one Ask, answered from memory, the first time; after that the hash's key id is remembered here, so a
/// request on a known key sends no message before its admission). A key is never logged or echoed. Whether a known
/// key may still be used is its key actor's to say at admission (revoked, expired); a key revoked through this
/// host's admin API is also forgotten here (<see cref="Forget"/>), for the endpoints that admit nothing.
/// </summary>
public sealed class ClientKeys(OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Past this many known keys the memory starts again from empty (each is looked up once more).</summary>
    private const int MaxKnown = 100_000;

    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.Ordinal);   // secret's SHA-256 -> key id

    /// <summary>Off only when no client key of either kind can exist: no <c>auth.keys</c> and no admin to make ledger keys.</summary>
    public bool Enabled => settings.Auth.Enabled || settings.Admin.Enabled;

    /// <summary>The caller, or null with <paramref name="refusal"/> saying why (for the 401's message).</summary>
    public async ValueTask<(ClientIdentity? Identity, string? Refusal)> IdentifyAsync(string key, CancellationToken ct)
    {
        if (ClientKeyFilter.TryMatch(settings.Auth, key, out var caller)) return (new ClientIdentity(caller, null), null);
        if (!LedgerKeys.LooksLikeLedgerKey(key)) return (null, null);
        var hash = LedgerKeys.Hash(key);
        if (_known.TryGetValue(hash, out var known)) return (new ClientIdentity(known, known), null);
        try
        {
            var reply = await ledger.ActorRef.Ask<object>(new IdentifyKey(hash), LookupTimeout, ct);
            return reply switch
            {
                KeyIdentified identified => (Remember(hash, identified.KeyId), null),
                KeyNotIdentified refused => (null, refused.Reason),
                _ => (null, null),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, "The key could not be checked in time; try again.");
        }
    }

    /// <summary>A key revoked here: its next request is looked up again (and refused).</summary>
    public void Forget(string keyId)
    {
        foreach (var (hash, id) in _known)
            if (id == keyId) _known.TryRemove(hash, out _);
    }

    private ClientIdentity Remember(string hash, string keyId)
    {
        if (_known.Count >= MaxKnown) _known.Clear();
        _known[hash] = keyId;
        return new ClientIdentity(keyId, keyId);
    }
}
