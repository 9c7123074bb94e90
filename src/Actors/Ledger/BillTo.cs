using Akka.Actor;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Actors.Ledger;

/// <summary>Where a billed request settles when it ends: the ledger, the key, and the model's prices.</summary>
public sealed record BillTo(IActorRef Ledger, string KeyId, Price Price, DateTimeOffset StartedAt);
