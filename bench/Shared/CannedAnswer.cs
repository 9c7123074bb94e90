using System.Text;

namespace Orchestrator.Bench;

/// <summary>
/// The mock upstream's answer, shared by the mock (which writes it) and the load generator (which checks it), so
/// "exact content" means the same bytes on both sides. Content chunk <c>i</c> carries <see cref="Token"/>(i).
/// </summary>
public static class CannedAnswer
{
    /// <summary>Most content chunks one request may ask for (its <c>max_tokens</c>).</summary>
    public const int MaxChunks = 4096;

    /// <summary>The whole answer of a non-streamed completion.</summary>
    public const string CompletionText = "Hello from the mock upstream.";

    /// <summary>Request field, read by the mock only, that paces a stream: milliseconds between content chunks.</summary>
    public const string PaceField = "bench_pace_ms";

    public static string Token(int index) => index == 0 ? "tok0" : " tok" + index;

    public static byte[] TokenUtf8(int index) => Encoding.UTF8.GetBytes(Token(index));
}
