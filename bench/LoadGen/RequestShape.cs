using System.Text;

namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// What one request asks the mock for: a completion, or a stream of <paramref name="Chunks"/> content chunks
/// <paramref name="PaceMs"/> apart (the mock reads <c>max_tokens</c> and <c>bench_pace_ms</c>; relays pass both on).
/// <paramref name="Model"/> is what the client asks for: Orchestrator routes <c>bench</c> to the mock over HTTP/1.1
/// and <c>bench-h2</c> over HTTP/2 (<c>orchestrator-bench.conf</c>); the mock and YARP ignore it.
/// </summary>
/// With <paramref name="MessagesFront"/> the request goes to Orchestrator's <c>/v1/messages</c> (Anthropic's API) instead,
/// without the pace field (Anthropic's request has no room for it; only unpaced shapes use that front).
public sealed record RequestShape(bool Stream, int Chunks, int PaceMs, string Model = "bench", bool MessagesFront = false)
{
    public static readonly RequestShape Completion = new(Stream: false, Chunks: 1, PaceMs: 0);

    public byte[] Body { get; } = Encoding.UTF8.GetBytes(MessagesFront
        ? $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Say hello."}],"stream":{{(Stream ? "true" : "false")}},"max_tokens":{{Chunks}}}"""
        : $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Say hello."}],"stream":{{(Stream ? "true" : "false")}},"max_tokens":{{Chunks}},"{{CannedAnswer.PaceField}}":{{PaceMs}}}""");

    /// <summary>Where the request goes, relative to the target's base URL.</summary>
    public string Path => MessagesFront ? "v1/messages" : "v1/chat/completions";

    /// <summary>The content each chunk must carry, in order.</summary>
    public byte[][] ExpectedTokens { get; } = Enumerable.Range(0, Chunks).Select(CannedAnswer.TokenUtf8).ToArray();

    /// <summary>The same request for another model (a new instance: <see cref="Body"/> is built once, so <c>with</c> would keep the old one).</summary>
    public RequestShape ForModel(string model) => new(Stream, Chunks, PaceMs, model, MessagesFront);

    /// <summary>The same request through Orchestrator's Anthropic front.</summary>
    public RequestShape ThroughMessagesFront() => new(Stream, Chunks, PaceMs, Model, MessagesFront: true);

    public override string ToString() => Stream ? $"stream {Chunks} chunks, {(PaceMs == 0 ? "unpaced" : $"paced {PaceMs} ms")}" : "non-stream";
}
