using System.Collections.Concurrent;

namespace Orchestrator.Bench.Soak;

/// <summary>Outcomes by kind for one phase; a kind that starts with "FAIL" breaks the soak. Keeps the first few failures' details.</summary>
public sealed class Tally
{
    public const string FailPrefix = "FAIL ";
    private const int KeptExamples = 20;

    private readonly ConcurrentDictionary<string, long> _counts = new();
    private readonly ConcurrentQueue<string> _examples = new();
    private long _requests;

    public long Requests => Interlocked.Read(ref _requests);

    public IReadOnlyDictionary<string, long> Counts => _counts;

    public IEnumerable<string> Examples => _examples;

    public long Failures => _counts.Where(c => c.Key.StartsWith(FailPrefix, StringComparison.Ordinal)).Sum(c => c.Value);

    public void Add(string kind, string? detail = null)
    {
        Interlocked.Increment(ref _requests);
        _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
        if (kind.StartsWith(FailPrefix, StringComparison.Ordinal) && _examples.Count < KeptExamples)
            _examples.Enqueue(detail is null ? kind : $"{kind}: {detail}");
    }
}
