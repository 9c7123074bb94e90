using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects.Anthropic;

/// <summary>
/// A whole Anthropic message (a non-streamed answer) as the OpenAI <c>chat.completion</c> the engine hands on: text
/// blocks joined into <c>content</c> (null when the answer is only tool calls, as OpenAI has it), <c>tool_use</c>
/// blocks as <c>tool_calls</c> with the upstream's ids, thinking as <c>reasoning_content</c> and
/// <c>reasoning_signature</c>, and usage with every input token in <c>prompt_tokens</c>.
/// </summary>
public static class AnthropicCompletion
{
    /// <param name="outputTool">The tool that carries a structured answer (<see cref="AnthropicRequest.OutputTool"/>): its input is the answer's text.</param>
    public static byte[] ToChatCompletion(ReadOnlySpan<byte> message, string model, TimeProvider? time = null, string? outputTool = null)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(message);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            throw new UpstreamProtocolException("the upstream answered with something other than a JSON object");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || String(root, "type") != "message")
                throw new UpstreamProtocolException("the upstream answered with something other than an Anthropic message");
            return Write(root, model, (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds(), outputTool);
        }
    }

    private static byte[] Write(JsonElement root, string model, long created, string? outputTool)
    {
        var answeredByOutputTool = false;
        var text = new StringBuilder();
        var thinking = new StringBuilder();
        string? signature = null;
        var tools = new List<JsonElement>();
        var hasText = false;
        if (root.TryGetProperty("content"u8, out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                switch (String(block, "type"))
                {
                    case "text":
                        hasText = true;
                        text.Append(String(block, "text"));
                        break;
                    case "thinking":
                        thinking.Append(String(block, "thinking"));
                        signature = String(block, "signature") ?? signature;   // one signature per message in the chat form: the last
                        break;
                    case "tool_use" when outputTool is not null && String(block, "name") == outputTool:
                        hasText = answeredByOutputTool = true;
                        if (block.TryGetProperty("input"u8, out var answer) && answer.ValueKind == JsonValueKind.Object) text.Append(answer.GetRawText());
                        break;
                    case "tool_use":
                        tools.Add(block);
                        break;
                }
            }
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, String(root, "id") ?? "");
            json.WriteString("object"u8, "chat.completion"u8);
            json.WriteNumber("created"u8, created);
            json.WriteString("model"u8, model);
            json.WriteStartArray("choices"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            json.WriteStartObject("message"u8);
            json.WriteString("role"u8, "assistant"u8);
            if (!hasText && tools.Count > 0) json.WriteNull("content"u8);
            else json.WriteString("content"u8, text.ToString());
            if (thinking.Length > 0) json.WriteString("reasoning_content"u8, thinking.ToString());
            if (signature is not null) json.WriteString("reasoning_signature"u8, signature);
            if (tools.Count > 0)
            {
                json.WriteStartArray("tool_calls"u8);
                foreach (var tool in tools)
                {
                    json.WriteStartObject();
                    json.WriteString("id"u8, String(tool, "id") ?? "");
                    json.WriteString("type"u8, "function"u8);
                    json.WriteStartObject("function"u8);
                    json.WriteString("name"u8, String(tool, "name") ?? "");
                    json.WriteString("arguments"u8, tool.TryGetProperty("input"u8, out var input) && input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}");
                    json.WriteEndObject();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
            var finish = AnthropicStopReason.ToFinishReason(String(root, "stop_reason"));
            if (finish == FinishReason.ToolCalls && answeredByOutputTool && tools.Count == 0) finish = FinishReason.Stop;
            json.WriteString("finish_reason"u8, finish switch
            {
                FinishReason.Length => "length",
                FinishReason.ToolCalls => "tool_calls",
                FinishReason.ContentFilter => "content_filter",
                _ => "stop",
            });
            json.WriteEndObject();
            json.WriteEndArray();
            if (root.TryGetProperty("usage"u8, out var usage) && usage.ValueKind == JsonValueKind.Object) Usage(json, usage);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void Usage(Utf8JsonWriter json, JsonElement usage)
    {
        var cacheRead = Int(usage, "cache_read_input_tokens");
        var cacheWrite = Int(usage, "cache_creation_input_tokens");
        var prompt = Int(usage, "input_tokens") + cacheRead + cacheWrite;   // Anthropic's input_tokens excludes the cache
        var completion = Int(usage, "output_tokens");
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, prompt);
        json.WriteNumber("completion_tokens"u8, completion);
        json.WriteNumber("total_tokens"u8, prompt + completion);
        json.WriteStartObject("prompt_tokens_details"u8);
        json.WriteNumber("cached_tokens"u8, cacheRead);
        if (cacheWrite > 0) json.WriteNumber("cache_write_tokens"u8, cacheWrite);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : 0;
}
