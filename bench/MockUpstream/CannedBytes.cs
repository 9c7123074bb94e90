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

    // Anthropic's Messages API: the same answer in its events (message_start, one text block, message_delta, message_stop).
    public static readonly byte[] AnthropicStart = Encoding.UTF8.GetBytes(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"bench-upstream\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":8,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n" +
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
        "event: ping\ndata: {\"type\": \"ping\"}\n\n");

    public static readonly byte[][] AnthropicText = Enumerable.Range(0, CannedAnswer.MaxChunks)
        .Select(i => Encoding.UTF8.GetBytes("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + CannedAnswer.Token(i) + "\"}}\n\n"))
        .ToArray();

    public static byte[] AnthropicEnd(int chunks) => Encoding.UTF8.GetBytes(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
        $"event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{chunks}}}}}\n\n" +
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");

    public static readonly byte[] AnthropicMessage = Encoding.UTF8.GetBytes($$$"""
        {"id":"msg_bench","type":"message","role":"assistant","model":"bench-upstream","content":[{"type":"text","text":"{{{CannedAnswer.CompletionText}}}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":8,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":6}}
        """);

    private static byte[] Event(string delta, string finishReason) => Encoding.UTF8.GetBytes(
        ChunkPrefix + delta + ""","logprobs":null,"finish_reason":""" + finishReason + "}]}\n\n");
}
