using System.Text.Json;
using Orchestrator.Messages.Answers;

namespace Orchestrator.Actors.Dialects.Gemini;

/// <summary>
/// Reads a Gemini stream (<c>:streamGenerateContent?alt=sse</c>; each event's data is a whole
/// <c>GenerateContentResponse</c>) into canonical events: the first response starts the message, each candidate is a
/// choice, text parts are text (thought parts thinking, a <c>thoughtSignature</c> its signature), a
/// <c>functionCall</c> part is a whole tool call (Gemini never splits one) numbered from 0 per choice, a
/// <c>finishReason</c> finishes its choice, and once every choice has finished the latest <c>usageMetadata</c> is
/// reported. A prompt Gemini blocked (no candidates, <c>promptFeedback.blockReason</c>) fails the answer as the
/// caller's fault. Gemini sends no <c>[DONE]</c>: its stream just ends after the finishing response.
/// One per answer; also reads a whole <c>:generateContent</c> response (<see cref="GeminiCompletion"/>).
/// </summary>
/// <param name="model">The route's upstream model, for when a response names no <c>modelVersion</c>.</param>
/// <param name="choices">How many candidates were asked for (<c>candidateCount</c>): usage waits until all have finished.</param>
public sealed class GeminiStreamDecoder(string model, int choices = 1, TimeProvider? time = null) : IAnswerDecoder
{
    /// <summary>OpenAI's limit on <c>n</c>: a candidate index past it is not one we asked for.</summary>
    private const int MaxChoices = 128;

    private bool _started;
    // Per candidate: tool calls made so far, finished or not. Indexed by candidate index; few per answer.
    private readonly List<(int Calls, bool Finished)> _choices = [];
    private TokenUsage? _usage;
    private bool _usageReported;

    public void Decode(ReadOnlySpan<byte> data, List<AnswerEvent> events)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            using var doc = JsonDocument.ParseValue(ref reader);
            Read(doc.RootElement, events);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // IAnswerDecoder: a bad event is skipped, never thrown.
        }
    }

    private void Read(JsonElement root, List<AnswerEvent> events)
    {
        if (root.ValueKind != JsonValueKind.Object) return;
        if (root.TryGetProperty("error"u8, out var error) && error.ValueKind == JsonValueKind.Object)
        {
            events.Add(new AnswerFailed(GeminiErrors.StreamError(String(error, "status"), Int(error, "code"))));
            return;
        }
        var candidates = root.TryGetProperty("candidates"u8, out var c) && c.ValueKind == JsonValueKind.Array ? c : default;
        var hasCandidates = candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0;
        if (!hasCandidates && root.TryGetProperty("promptFeedback"u8, out var feedback) && String(feedback, "blockReason") is { } blockReason)
        {
            events.Add(new AnswerFailed(GeminiErrors.PromptBlocked(blockReason)));
            return;
        }
        if (!_started)
        {
            _started = true;
            var id = String(root, "responseId") ?? "chatcmpl-" + Guid.NewGuid().ToString("N");
            events.Add(new MessageStarted(id, String(root, "modelVersion") ?? model, (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds()));
        }
        if (root.TryGetProperty("usageMetadata"u8, out var usage) && usage.ValueKind == JsonValueKind.Object) _usage = Usage(usage);
        if (hasCandidates)
        {
            var position = 0;
            foreach (var candidate in candidates.EnumerateArray())
            {
                // proto3 JSON leaves out zeros: the first candidate often has no index.
                Candidate(candidate, Int(candidate, "index") ?? position, events);
                position++;
            }
        }
        // Usage is the last thing a chat stream says (the engine ends the answer on it), so it waits for every choice.
        if (!_usageReported && _usage is not null && _choices.Count(s => s.Finished) >= choices)
        {
            _usageReported = true;
            events.Add(new UsageReported(_usage));
        }
    }

    private void Candidate(JsonElement candidate, int choice, List<AnswerEvent> events)
    {
        if (candidate.ValueKind != JsonValueKind.Object || choice is < 0 or >= MaxChoices) return;
        while (_choices.Count <= choice) _choices.Add((0, false));
        if (candidate.TryGetProperty("content"u8, out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty("parts"u8, out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray()) Part(part, choice, events);
        }
        if (String(candidate, "finishReason") is { } reason && !_choices[choice].Finished)
        {
            _choices[choice] = _choices[choice] with { Finished = true };
            events.Add(new Finished(choice, Finish(reason, _choices[choice].Calls > 0)));
        }
    }

    private void Part(JsonElement part, int choice, List<AnswerEvent> events)
    {
        if (part.ValueKind != JsonValueKind.Object) return;
        var signature = String(part, "thoughtSignature");
        if (String(part, "text") is { } text)
        {
            if (part.TryGetProperty("thought"u8, out var thought) && thought.ValueKind == JsonValueKind.True)
            {
                if (text.Length > 0) events.Add(new ThinkingDelta(choice, text));
                if (signature is not null) events.Add(new ThinkingSignature(choice, signature));
                return;
            }
            // A signature on an answer part seals the thinking before it: said first, so reasoning precedes content.
            if (signature is not null) events.Add(new ThinkingSignature(choice, signature));
            if (text.Length > 0) events.Add(new TextDelta(choice, text));
            return;
        }
        if (signature is not null) events.Add(new ThinkingSignature(choice, signature));
        if (part.TryGetProperty("functionCall"u8, out var call) && call.ValueKind == JsonValueKind.Object)
        {
            var index = _choices[choice].Calls;
            _choices[choice] = _choices[choice] with { Calls = index + 1 };
            // Gemini sends a call whole and names it only when it has an id of its own; otherwise one in OpenAI's form.
            var id = String(call, "id") ?? "call_" + Guid.NewGuid().ToString("N")[..24];
            var arguments = call.TryGetProperty("args"u8, out var args) && args.ValueKind == JsonValueKind.Object ? args.GetRawText() : "{}";
            events.Add(new ToolCallStarted(choice, index, id, String(call, "name") ?? ""));
            events.Add(new ToolArgumentsDelta(choice, index, arguments));
            events.Add(new ToolCallEnded(choice, index));
        }
        // executableCode, codeExecutionResult, inlineData (generated images): nothing the chat form can carry.
    }

    /// <summary>Gemini's finishReason in canonical words; a natural stop after function calls is a tool-call finish.</summary>
    public static FinishReason Finish(string reason, bool madeCalls) => reason switch
    {
        "STOP" => madeCalls ? FinishReason.ToolCalls : FinishReason.Stop,
        "MAX_TOKENS" => FinishReason.Length,
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" => FinishReason.ContentFilter,
        _ => FinishReason.Stop,
    };

    /// <summary>
    /// Gemini's usage in the canonical convention: <c>promptTokenCount</c> already includes the cached tokens; thinking
    /// is billed as output but counted apart from <c>candidatesTokenCount</c>, so it is added in.
    /// </summary>
    public static TokenUsage Usage(JsonElement usage)
    {
        var thoughts = Int(usage, "thoughtsTokenCount") ?? 0;
        return new TokenUsage(
            Int(usage, "promptTokenCount") ?? 0,
            (Int(usage, "candidatesTokenCount") ?? 0) + thoughts,
            CacheReadTokens: Int(usage, "cachedContentTokenCount") ?? 0,
            ReasoningTokens: thoughts);
    }

    private static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;
}
