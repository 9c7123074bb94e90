using System.Text;

namespace Orchestrator.Bench.MockUpstream;

/// <summary>
/// Every byte the mock writes, built once at start: a request costs a body parse and socket writes, nothing else.
/// The chunks copy the shape OpenAI sends (<c>system_fingerprint</c>, <c>logprobs: null</c>), so a relay pays for
/// the fields it does not model too.
/// </summary>
internal static class CannedBytes
{
    private const string ChunkPrefix =
        """data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-upstream","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":""";

    public static readonly byte[] Role = Event("""{"role":"assistant","content":""}""", "null");

    public static readonly byte[][] Content = Enumerable.Range(0, CannedAnswer.MaxChunks)
        .Select(i => Event($$"""{"content":"{{CannedAnswer.Token(i)}}"}""", "null"))
        .ToArray();

    public static readonly byte[] Finish = Event("{}", "\"stop\"");

    public static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static readonly byte[] Completion = Encoding.UTF8.GetBytes($$$"""
        {"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-upstream","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"{{{CannedAnswer.CompletionText}}}","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":6,"total_tokens":14}}
        """);

    public static readonly byte[] Models =
        """{"object":"list","data":[{"id":"bench-upstream","object":"model","created":1700000000,"owned_by":"bench"}]}"""u8.ToArray();

    public static readonly byte[] BadRequest =
        """{"error":{"message":"bad bench request","type":"invalid_request_error","param":null,"code":null}}"""u8.ToArray();

    private static byte[] Event(string delta, string finishReason) => Encoding.UTF8.GetBytes(
        ChunkPrefix + delta + ""","logprobs":null,"finish_reason":""" + finishReason + "}]}\n\n");
}
