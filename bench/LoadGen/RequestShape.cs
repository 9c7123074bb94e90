using System.Text;

namespace Orchestrator.Bench.LoadGen;

/// <summary>Which of Orchestrator's client APIs a request goes through.</summary>
public enum Front
{
    /// <summary>OpenAI's <c>/v1/chat/completions</c> (every target serves it).</summary>
    Chat,

    /// <summary>Anthropic's <c>/v1/messages</c> (Orchestrator only).</summary>
    Messages,

    /// <summary>Google Gemini's <c>/v1beta/models/{model}:streamGenerateContent?alt=sse</c> (Orchestrator only).</summary>
    Gemini,
}

/// <summary>
/// What one request asks the mock for: a completion, or a stream of <paramref name="Chunks"/> content chunks
/// <paramref name="PaceMs"/> apart (the mock reads <c>max_tokens</c> and <c>bench_pace_ms</c>; relays pass both on).
/// <paramref name="Model"/> is what the client asks for: Orchestrator routes <c>bench</c> to the mock over HTTP/1.1
/// and <c>bench-h2</c> over HTTP/2 (<c>orchestrator-bench.conf</c>); the mock and YARP ignore it.
/// </summary>
/// With <paramref name="Via"/> = <see cref="Front.Messages"/> the request goes to Orchestrator's <c>/v1/messages</c>
/// (Anthropic's API) instead; with <see cref="Front.Gemini"/> to its Gemini front, the model in the path and
/// <c>generationConfig.maxOutputTokens</c> for the chunk count (the relay makes it <c>max_tokens</c> upstream). Neither
/// carries the pace field (their requests have no room for it; only unpaced shapes use those fronts).
public sealed record RequestShape(bool Stream, int Chunks, int PaceMs, string Model = "bench", Front Via = Front.Chat)
{
    public static readonly RequestShape Completion = new(Stream: false, Chunks: 1, PaceMs: 0);

    public byte[] Body { get; } = Encoding.UTF8.GetBytes(Via switch
    {
        Front.Messages => $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Say hello."}],"stream":{{(Stream ? "true" : "false")}},"max_tokens":{{Chunks}}}""",
        Front.Gemini => $$$"""{"contents":[{"role":"user","parts":[{"text":"Say hello."}]}],"generationConfig":{"maxOutputTokens":{{{Chunks}}}}}""",
        _ => $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Say hello."}],"stream":{{(Stream ? "true" : "false")}},"max_tokens":{{Chunks}},"{{CannedAnswer.PaceField}}":{{PaceMs}}}""",
    });

    /// <summary>Where the request goes, relative to the target's base URL.</summary>
    public string Path => Via switch
    {
        Front.Messages => "v1/messages",
        Front.Gemini => Stream ? $"v1beta/models/{Model}:streamGenerateContent?alt=sse" : $"v1beta/models/{Model}:generateContent",
        _ => "v1/chat/completions",
    };

    /// <summary>The content each chunk must carry, in order.</summary>
    public byte[][] ExpectedTokens { get; } = Enumerable.Range(0, Chunks).Select(CannedAnswer.TokenUtf8).ToArray();

    /// <summary>The same request for another model (a new instance: <see cref="Body"/> is built once, so <c>with</c> would keep the old one).</summary>
    public RequestShape ForModel(string model) => new(Stream, Chunks, PaceMs, model, Via);

    /// <summary>The same request through Orchestrator's Anthropic front.</summary>
    public RequestShape ThroughMessagesFront() => new(Stream, Chunks, PaceMs, Model, Front.Messages);

    /// <summary>The same request through Orchestrator's Gemini front.</summary>
    public RequestShape ThroughGeminiFront() => new(Stream, Chunks, PaceMs, Model, Front.Gemini);

    /// <summary>The front named on the command line (<c>--front chat|messages|gemini</c>).</summary>
    public RequestShape Through(string? front) => front switch
    {
        null or "chat" => this,
        "messages" => ThroughMessagesFront(),
        "gemini" => ThroughGeminiFront(),
        _ => throw new ArgumentException($"unknown --front '{front}' (chat, messages, gemini)"),
    };

    public override string ToString() => Stream ? $"stream {Chunks} chunks, {(PaceMs == 0 ? "unpaced" : $"paced {PaceMs} ms")}" : "non-stream";
}
