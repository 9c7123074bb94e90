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

    public static SimulatedAnswer For(JsonElement body, int completionTokens, int? maxTokens)
    {
        var prompt = PromptText(body, out var messageCount);
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
        return new SimulatedAnswer(tokens.MoveToImmutable(), finish, Math.Max(1, prompt.Length / 4) + 3 * messageCount);
    }

    public string Text => string.Concat(Tokens);

    /// <summary>The text of every message, for the token estimate and to vary the answer by prompt.</summary>
    private static string PromptText(JsonElement body, out int messageCount)
    {
        messageCount = 0;
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array) return "";
        var text = new System.Text.StringBuilder();
        foreach (var message in messages.EnumerateArray())
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
