namespace Orchestrator.Messages.Ledger;

/// <summary>
/// A message for one key's ledger entity. Every such message names the key, so a shard region (or today's local
/// <c>ledger</c> parent) can route it by <see cref="KeyId"/> without looking inside.
/// </summary>
public interface IKeyMessage
{
    string KeyId { get; }
}
