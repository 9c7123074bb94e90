using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;

namespace Orchestrator.Actors.Ledger;

/// <summary>
/// Writes the ledger's events and snapshots as JSON, each under a stable manifest (its name, not its CLR type),
/// so the journal stays readable after a rename or a move. Bound to <see cref="IKeyEvent"/> in ledger.conf. The JSON
/// code is generated at build (<see cref="LedgerJson"/>): the same text as reflection over the web defaults wrote
/// before it (a test holds the two equal), without reflection's cost on each group commit.
/// </summary>
public sealed class LedgerSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private static readonly FrozenDictionary<string, Type> Types = new Dictionary<string, Type>
    {
        ["key-created"] = typeof(KeyCreated),
        ["credit-added"] = typeof(CreditAdded),
        ["limits-changed"] = typeof(LimitsChanged),
        ["reserved"] = typeof(Reserved),
        ["settled"] = typeof(Settled),
        ["settled-batch"] = typeof(SettledBatch),
        ["released"] = typeof(Released),
        ["revoked"] = typeof(Revoked),
        ["key-snapshot"] = typeof(KeySnapshot),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<Type, string> Manifests = Types.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);

    public override int Identifier => 4711;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest) ? manifest : throw new ArgumentException($"Not a ledger event: {o.GetType()}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), LedgerJson.Default);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, LedgerJson.Default) ?? throw new SerializationException($"A null {manifest} in the ledger")
            : throw new SerializationException($"Unknown ledger event '{manifest}'");
}


/// <summary>The ledger's events and snapshot, as JSON with the web defaults (camelCase names), code generated at build.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(KeyCreated))]
[JsonSerializable(typeof(CreditAdded))]
[JsonSerializable(typeof(LimitsChanged))]
[JsonSerializable(typeof(Reserved))]
[JsonSerializable(typeof(Settled))]
[JsonSerializable(typeof(SettledBatch))]
[JsonSerializable(typeof(Released))]
[JsonSerializable(typeof(Revoked))]
[JsonSerializable(typeof(KeySnapshot))]
internal sealed partial class LedgerJson : JsonSerializerContext;
