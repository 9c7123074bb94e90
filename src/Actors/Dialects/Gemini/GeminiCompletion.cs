using System.Buffers;
using System.Text;
using System.Text.Json;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects.Gemini;

/// <summary>
/// A whole Gemini answer (<c>:generateContent</c>) as the OpenAI <c>chat.completion</c> the engine hands on. The
/// response is read by <see cref="GeminiStreamDecoder"/> (it is one response of the stream's kind), so both paths
/// map alike: text joined into <c>content</c> (null when the answer is only tool calls), function calls as
/// <c>tool_calls</c>, thoughts as <c>reasoning_content</c>/<c>reasoning_signature</c>, usage with its cached and
/// reasoning details. A prompt or an answer Gemini blocked outright is a refusal, not an empty success.
/// </summary>
public static class GeminiCompletion
{
    public static UpstreamResponse Read(ReadOnlySpan<byte> body, string model, TimeProvider? time = null)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException();
        }
        catch (JsonException)
        {
            throw new UpstreamProtocolException("the upstream answered with something other than a JSON object");
        }
        var events = new List<AnswerEvent>();
        // One response holds every candidate, so the usage after them needs no count of choices.
        new GeminiStreamDecoder(model, choices: 1, time).Decode(body, events);
        if (events.OfType<AnswerFailed>().FirstOrDefault() is { } failed)
        {
            if (failed.Error.Code == GeminiErrors.ContentFilter) return new UpstreamRefusal(GeminiErrors.Refusal(failed.Error));
            throw new UpstreamProtocolException("the upstream answered with an error object");
        }
        var started = events.OfType<MessageStarted>().FirstOrDefault() ?? throw new UpstreamProtocolException("the upstream answered with no response");
        var answers = Collect(events);
        if (answers.Count > 0 && answers.Values.All(a => a.Blocked)) return new UpstreamRefusal(GeminiErrors.AnswerBlocked(BlockReason(body)));
        return new UpstreamCompletion(Write(started, answers, events.OfType<UsageReported>().LastOrDefault()?.Usage));
    }

    private sealed class Answer
    {
        public readonly StringBuilder Text = new();
        public readonly StringBuilder Thinking = new();
        public string? Signature;
        public readonly List<(string Id, string Name, StringBuilder Arguments)> Calls = [];
        public FinishReason? Finish;

        /// <summary>Finished by a safety filter with nothing to show for it.</summary>
        public bool Blocked => Finish == FinishReason.ContentFilter && Text.Length == 0 && Calls.Count == 0;
    }

    private static SortedDictionary<int, Answer> Collect(List<AnswerEvent> events)
    {
        var answers = new SortedDictionary<int, Answer>();
        Answer Of(int choice) => answers.TryGetValue(choice, out var a) ? a : answers[choice] = new Answer();
        foreach (var e in events)
        {
            switch (e)
            {
                case TextDelta t: Of(t.Choice).Text.Append(t.Text); break;
                case ThinkingDelta t: Of(t.Choice).Thinking.Append(t.Text); break;
                // The chat form has one signature per message: Gemini's last one (the one sealing the turn).
                case ThinkingSignature s: Of(s.Choice).Signature = s.Signature; break;
                case ToolCallStarted c: Of(c.Choice).Calls.Add((c.Id, c.Name, new StringBuilder())); break;
                case ToolArgumentsDelta a: Of(a.Choice).Calls[^1].Arguments.Append(a.Json); break;
                case Finished f: Of(f.Choice).Finish = f.Reason; break;
            }
        }
        return answers;
    }

    /// <summary>The first candidate's finishReason, for the refusal's message.</summary>
    private static string BlockReason(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using var doc = JsonDocument.ParseValue(ref reader);
        foreach (var candidate in doc.RootElement.GetProperty("candidates"u8).EnumerateArray())
        {
            if (candidate.TryGetProperty("finishReason"u8, out var reason) && reason.ValueKind == JsonValueKind.String) return reason.GetString()!;
        }
        return "SAFETY";
    }

    private static byte[] Write(MessageStarted started, SortedDictionary<int, Answer> answers, TokenUsage? usage)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, started.Id);
            json.WriteString("object"u8, "chat.completion"u8);
            json.WriteNumber("created"u8, started.Created);
            json.WriteString("model"u8, started.Model);
            json.WriteStartArray("choices"u8);
            foreach (var (index, answer) in answers) Choice(json, index, answer);
            json.WriteEndArray();
            if (usage is not null)
            {
                json.WriteStartObject("usage"u8);
                json.WriteNumber("prompt_tokens"u8, usage.InputTokens);
                json.WriteNumber("completion_tokens"u8, usage.OutputTokens);
                json.WriteNumber("total_tokens"u8, usage.TotalTokens);
                json.WriteStartObject("prompt_tokens_details"u8);
                json.WriteNumber("cached_tokens"u8, usage.CacheReadTokens);
                json.WriteEndObject();
                json.WriteStartObject("completion_tokens_details"u8);
                json.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void Choice(Utf8JsonWriter json, int index, Answer answer)
    {
        json.WriteStartObject();
        json.WriteNumber("index"u8, index);
        json.WriteStartObject("message"u8);
        json.WriteString("role"u8, "assistant"u8);
        // OpenAI: content is null (not absent) when the answer is only tool calls.
        if (answer.Text.Length == 0 && answer.Calls.Count > 0) json.WriteNull("content"u8);
        else json.WriteString("content"u8, answer.Text.ToString());
        if (answer.Thinking.Length > 0) json.WriteString("reasoning_content"u8, answer.Thinking.ToString());
        if (answer.Signature is not null) json.WriteString("reasoning_signature"u8, answer.Signature);
        if (answer.Calls.Count > 0)
        {
            json.WriteStartArray("tool_calls"u8);
            foreach (var (id, name, arguments) in answer.Calls)
            {
                json.WriteStartObject();
                json.WriteString("id"u8, id);
                json.WriteString("type"u8, "function"u8);
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, name);
                json.WriteString("arguments"u8, arguments.Length == 0 ? "{}" : arguments.ToString());
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteString("finish_reason"u8, answer.Finish switch
        {
            FinishReason.Length => "length",
            FinishReason.ToolCalls => "tool_calls",
            FinishReason.ContentFilter => "content_filter",
            _ => "stop",
        });
        json.WriteEndObject();
    }
}
