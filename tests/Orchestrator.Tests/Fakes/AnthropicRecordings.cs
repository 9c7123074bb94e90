namespace Orchestrator.Tests.Fakes;

/// <summary>
/// Anthropic Messages streams as the API writes them (event names, spacing and field order after its docs' recorded
/// examples): the bytes <see cref="FakeAnthropic"/> streams and the decoder tests read.
/// </summary>
public static class AnthropicRecordings
{
    public const string TextId = "msg_01XFDUDYJgAACzvnptvVoYEL";
    public const string ToolsId = "msg_014p7gG3wDgGV9EUtLvnow3U";
    public const string WeatherToolId = "toolu_01T1x1fJ34qAmk2tNTrN7Up6";
    public const string TimeToolId = "toolu_01HvDcbqUQj3cXxXWH3Qj6nA";
    public const string Signature = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds";

    /// <summary>The whole text of <see cref="Text"/>.</summary>
    public const string TextAnswer = "Hello, world!";

    /// <summary>"Hello, world!" with a ping, usage split over cache read and write, end_turn.</summary>
    public const string Text = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-test-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", world"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}

        event: message_stop
        data: {"type":"message_stop"}


        """;

    /// <summary>The start of <see cref="Text"/> up to its first delta ("Hello"), then nothing: the connection lost mid-answer.</summary>
    public const string TextCutAfterFirstDelta = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01CutCutCutCutCutCutCutCut","type":"message","role":"assistant","model":"claude-test-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}


        """;

    /// <summary>A text answer continuing an assistant prefill with <paramref name="rest"/> (the API sends only the new text).</summary>
    public static string TextContinuing(string rest) => """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01PrefillPrefillPrefill00","type":"message","role":"assistant","model":"claude-test-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":27,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":REST}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}

        event: message_stop
        data: {"type":"message_stop"}


        """.Replace("REST", System.Text.Json.JsonSerializer.Serialize(rest), StringComparison.Ordinal);

    /// <summary>Text, then two tool calls: one whose input streams in pieces, one with no arguments at all; stop_reason tool_use.</summary>
    public const string Tools = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-test-1","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\", \"unit\": \"c\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: content_block_start
        data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01HvDcbqUQj3cXxXWH3Qj6nA","name":"get_time","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":2}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

        event: message_stop
        data: {"type":"message_stop"}


        """;

    /// <summary>Extended thinking (spaced JSON, as the docs' thinking example) sealed by a signature, then the text.</summary>
    public const string Thinking = """
        event: message_start
        data: {"type": "message_start", "message": {"id": "msg_01ThinkThinkThinkThinkThink", "type": "message", "role": "assistant", "content": [], "model": "claude-test-1", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 40, "output_tokens": 1}}}

        event: content_block_start
        data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "27 * 453 = 12231"}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}

        event: content_block_stop
        data: {"type": "content_block_stop", "index": 0}

        event: content_block_start
        data: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "12231"}}

        event: content_block_stop
        data: {"type": "content_block_stop", "index": 1}

        event: message_delta
        data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 30}}

        event: message_stop
        data: {"type": "message_stop"}


        """;

    /// <summary>The API overloaded after the stream began and before any content: an error event and nothing more.</summary>
    public const string OverloadedBeforeContent = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01Overloaded0000000000000","type":"message","role":"assistant","model":"claude-test-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}

        event: ping
        data: {"type": "ping"}

        event: error
        data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


        """;

    public const string TextMessage = """
        {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"text","text":"Hello, world!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":12}}
        """;

    public const string ToolsMessage = """
        {"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{"city":"Paris","unit":"c"}},{"type":"tool_use","id":"toolu_01HvDcbqUQj3cXxXWH3Qj6nA","name":"get_time","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":89}}
        """;

    public const string ToolsOnlyMessage = """
        {"id":"msg_01ToolsOnly","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}
        """;

    public const string ThinkingMessage = """
        {"id":"msg_01ThinkThinkThinkThinkThink","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"thinking","thinking":"27 * 453 = 12231","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},{"type":"text","text":"12231"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":40,"cache_read_input_tokens":100,"output_tokens":30}}
        """;

    /// <summary>The data payloads of a recorded stream, in order (what an SSE reader hands a decoder).</summary>
    public static IReadOnlyList<string> DataOf(string stream) =>
        stream.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal)))
            .Where(l => l is not null)
            .Select(l => l!["data: ".Length..])
            .ToList();
}
