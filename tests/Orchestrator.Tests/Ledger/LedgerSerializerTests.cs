using System.Text;
using System.Text.Json;
using Akka.Actor;
using Orchestrator.Actors.Ledger;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Tests.Ledger;

/// <summary>
/// The journal's format: the serializer's generated JSON code writes what reflection over the web defaults wrote
/// (journals written before it read back the same), and a row as an older build wrote it still reads.
/// </summary>
public sealed class LedgerSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 8, 30, 15, 123, TimeSpan.Zero);

    private static UsageRecord Usage(string requestId, string? finish, double? ttft) =>
        new(requestId, "key_1", "gpt-4.1", "openai", 120, 20, 45, 7, 0.000123456789m, 200, finish, finish is null, At, At.AddMilliseconds(850.25), ttft);

    private static readonly IKeyEvent[] Events =
    [
        new KeyCreated("key_1", "acme", "c0ffee", 5.25m, ["gpt-4.1", "claude-sonnet-4-5"], new KeyLimits(60, 100_000, null), At.AddDays(30), At),
        new KeyCreated("key_2", "open", "beef", 0m, null, KeyLimits.None, null, At),
        new CreditAdded(-1.5m, "refund \"march\"", At),
        new CreditAdded(10m, null, At),
        new LimitsChanged("renamed", [], new KeyLimits(null, null, 3), null, At),
        new Reserved("req-1", "gpt-4.1", 4096, 0.0328m, At),
        new Settled(Usage("req-1", "stop", 312.5)),
        new SettledBatch([Usage("req-2", "length", null), Usage("req-3", null, 12)]),
        new Released("req-4", "process restarted", At),
        new Revoked(At),
        new KeySnapshot(new KeyCreated("key_1", "acme", "c0ffee", 5m, null, KeyLimits.None, null, At), 15.25m, 0.5m, 42, "acme",
            ["gpt-4.1"], new KeyLimits(1, 2, 3), null, At, [new Reserved("req-5", "gpt-4.1", 10, 0.01m, At)]),
    ];

    private LedgerSerializer Serializer => new((ExtendedActorSystem)Sys);

    [Fact]
    public void Every_event_is_written_as_reflection_over_the_web_defaults_wrote_it()
    {
        var reflection = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        foreach (var e in Events)
        {
            var written = Encoding.UTF8.GetString(Serializer.ToBinary(e));
            Assert.Equal(JsonSerializer.Serialize(e, e.GetType(), reflection), written);
            var read = Serializer.FromBinary(Encoding.UTF8.GetBytes(written), Serializer.Manifest(e));
            Assert.IsType(e.GetType(), read);
            Assert.Equal(written, Encoding.UTF8.GetString(Serializer.ToBinary(read)));
        }
    }

    [Fact]
    public void A_settlement_written_by_an_older_build_reads_back()
    {
        const string row = """
            {"records":[{"requestId":"req-9","keyId":"key_1","model":"bench","provider":"mock","inputTokens":20,"cachedInputTokens":0,
            "outputTokens":50,"reasoningTokens":0,"costUsd":0.0001,"status":200,"finishReason":"stop","usageEstimated":false,
            "startedAt":"2026-12-06T05:00:00+00:00","endedAt":"2026-12-06T05:00:01.5+00:00","ttftMs":1.25}]}
            """;
        var batch = Assert.IsType<SettledBatch>(Serializer.FromBinary(Encoding.UTF8.GetBytes(row), "settled-batch"));
        var record = Assert.Single(batch.Records);
        Assert.Equal(new UsageRecord("req-9", "key_1", "bench", "mock", 20, 0, 50, 0, 0.0001m, 200, "stop", false,
            new DateTimeOffset(2026, 12, 6, 5, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 6, 5, 0, 1, 500, TimeSpan.Zero), 1.25), record);
    }
}
