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
/// directory: one Ask, answered from memory). A key is never logged or echoed.
/// </summary>
public sealed class ClientKeys(OrchestratorSettings settings, IRequiredActor<LedgerActor> ledger)
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Off only when no client key of either kind can exist: no <c>auth.keys</c> and no admin to make ledger keys.</summary>
    public bool Enabled => settings.Auth.Enabled || settings.Admin.Enabled;

    /// <summary>The caller, or null with <paramref name="refusal"/> saying why (for the 401's message).</summary>
    public async ValueTask<(ClientIdentity? Identity, string? Refusal)> IdentifyAsync(string key, CancellationToken ct)
    {
        if (ClientKeyFilter.TryMatch(settings.Auth, key, out var caller)) return (new ClientIdentity(caller, null), null);
        if (!LedgerKeys.LooksLikeLedgerKey(key)) return (null, null);
        try
        {
            var reply = await ledger.ActorRef.Ask<object>(new IdentifyKey(LedgerKeys.Hash(key)), LookupTimeout, ct);
            return reply switch
            {
                KeyIdentified identified => (new ClientIdentity(identified.KeyId, identified.KeyId), null),
                KeyNotIdentified refused => (null, refused.Reason),
                _ => (null, null),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, "The key could not be checked in time; try again.");
        }
    }
}
