namespace Orchestrator.Actors.Ledger.Storage;

/// <summary>A key was added whose id or secret hash the ledger already holds: the caller's fault (or a hash collision, which a high-entropy key makes impossible in practice).</summary>
public sealed class LedgerKeyConflictException(string keyId, Exception? inner = null)
    : Exception($"Key '{keyId}' was not added: a key with that id or secret already exists.", inner)
{
    public string KeyId { get; } = keyId;
}
