using System.Collections.Immutable;
using System.Text.Json;

namespace Orchestrator.Actors.Simulator;

/// <summary>
/// The simulator's answer to a request: plausible English tokens, the same for the same prompt, with token counts
/// estimated the usual way (about four characters a token) so usage looks real.
/// </summary>
internal sealed record SimulatedAnswer(ImmutableArray<string> Tokens, string FinishReason, int PromptTokens)
{
    private static readonly string[] Sentences =
    [
        "Here is a simulated answer from the Orchestrator built-in provider.",
        "It streams one token at a time, so you can watch a relay carry a long response.",
        "No model runs here: the words are chosen to look like a reply without costing anything.",
        "Configure a real provider key and the same request goes to a real model instead.",
        "Streaming, usage accounting and error shapes all behave as they would upstream.",
        "Every answer is repeatable for the same prompt, which keeps tests and benchmarks honest.",
    ];

    /// <summary>
    /// The answer to <paramref name="body"/>. A trailing assistant message (a prefill, as the relay sends to resume a
    /// broken stream) is continued: the answer is the one the request without it gets, less the prefilled text.
    /// </summary>
    public static SimulatedAnswer For(JsonElement body, int completionTokens, int? maxTokens)
    {
        if (StructuredOutput(body) is { } json)
        {
            // Structured output asked for (a client's router, an extraction): an object of the schema's shape, so
            // the client can parse it, in pieces of about a token.
            var pieces = ImmutableArray.CreateBuilder<string>();
            for (var i = 0; i < json.Length; i += 4) pieces.Add(json.Substring(i, Math.Min(4, json.Length - i)));
            return new SimulatedAnswer(pieces.ToImmutable(), "stop", Estimate(PromptText(body, skipLast: false, out var count), count));
        }
        var prefill = Prefill(body);
        var prompt = PromptText(body, skipLast: prefill is not null, out var messageCount);
        var limit = maxTokens is { } max && max < completionTokens ? max : completionTokens;
        var tokens = ImmutableArray.CreateBuilder<string>(limit);
        var sentence = (int)((uint)StableHash(prompt) % (uint)Sentences.Length);
        while (tokens.Count < limit)
        {
            var words = Sentences[sentence++ % Sentences.Length].Split(' ');
            foreach (var word in words)
            {
                if (tokens.Count == limit) break;
                tokens.Add(tokens.Count == 0 ? word : " " + word);
            }
        }
        var finish = maxTokens is { } cap && cap < completionTokens ? "length" : "stop";
        var answer = new SimulatedAnswer(tokens.MoveToImmutable(), finish, Estimate(prompt, messageCount));
        if (prefill is null) return answer;
        // A provider reads the prefill as input, so it is billed as prompt.
        return answer.ContinuedFrom(prefill) with { PromptTokens = Estimate(prompt + prefill, messageCount + 1) };
    }

    /// <summary>
    /// The JSON a request's <c>response_format</c> asks for: an example of its <c>json_schema</c> (every required
    /// property, the first value of an enum), <c>{}</c> for <c>json_object</c>; null when it asks for text.
    /// </summary>
    private static string? StructuredOutput(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("response_format", out var format) || format.ValueKind != JsonValueKind.Object
            || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String) return null;
        return type.GetString() switch
        {
            "json_schema" => SimulatedToolCall.ExampleArguments(format.TryGetProperty("json_schema", out var spec) && spec.ValueKind == JsonValueKind.Object
                && spec.TryGetProperty("schema", out var schema) ? schema : default),
            "json_object" => "{}",
            _ => null,
        };
    }

    /// <summary>Whether the last message is from the assistant, whatever its content.</summary>
    public static bool EndsWithAssistant(JsonElement body) =>
        LastMessage(body) is { } last && last.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.GetString() == "assistant";

    /// <summary>The text of a trailing assistant message with string content, or null when there is none.</summary>
    private static string? Prefill(JsonElement body) =>
        EndsWithAssistant(body) && LastMessage(body)!.Value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
            ? content.GetString()
            : null;

    private static JsonElement? LastMessage(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array) return null;
        var count = messages.GetArrayLength();
        return count == 0 || messages[count - 1].ValueKind != JsonValueKind.Object ? null : messages[count - 1];
    }

    /// <summary>
    /// The tokens after <paramref name="prefix"/>, so that prefix + tokens is this answer exactly; a prefix ending
    /// inside a token leaves that token's remainder first. A prefix that is not ours gets the whole answer again.
    /// </summary>
    public SimulatedAnswer ContinuedFrom(string prefix)
    {
        if (!Text.StartsWith(prefix, StringComparison.Ordinal)) return this;
        var rest = ImmutableArray.CreateBuilder<string>();
        var start = 0;
        foreach (var token in Tokens)
        {
            var end = start + token.Length;
            if (end > prefix.Length) rest.Add(start >= prefix.Length ? token : token[(prefix.Length - start)..]);
            start = end;
        }
        return this with { Tokens = rest.ToImmutable() };
    }

    private static int Estimate(string prompt, int messageCount) => Math.Max(1, prompt.Length / 4) + 3 * messageCount;

    public string Text => string.Concat(Tokens);

    /// <summary>
    /// This answer as a call of <paramref name="call"/>: its "tokens" are the arguments in two pieces (so a stream
    /// shows arguments arriving in parts), finishing with tool_calls.
    /// </summary>
    public SimulatedAnswer Calling(SimulatedToolCall call)
    {
        var half = call.Arguments.Length / 2;
        return this with { Tokens = [call.Arguments[..half], call.Arguments[half..]], FinishReason = "tool_calls" };
    }

    /// <summary>The text of every message, for the token estimate and to vary the answer by prompt.</summary>
    private static string PromptText(JsonElement body, bool skipLast, out int messageCount)
    {
        messageCount = 0;
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array) return "";
        var text = new System.Text.StringBuilder();
        var take = messages.GetArrayLength() - (skipLast ? 1 : 0);
        foreach (var message in messages.EnumerateArray().Take(take))
        {
            messageCount++;
            if (!message.TryGetProperty("content", out var content)) continue;
            if (content.ValueKind == JsonValueKind.String) text.Append(content.GetString()).Append('\n');
            else if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                        text.Append(t.GetString()).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text) hash = unchecked(hash * 31 + c);
        return hash;
    }
}
