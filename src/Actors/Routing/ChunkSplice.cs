using System.Buffers;
using System.Text.Json;
using Orchestrator.Messages.Api;

namespace Orchestrator.Actors.Routing;

/// <summary>
/// How a chunk of a retried or resumed attempt joins the client's stream: the first attempt's id and created time,
/// no second role chunk, replayed text withheld until it has caught up (and the seam's whitespace not doubled),
/// usage with the cut attempt's tokens added, and the resume recorded on the finishing chunks. Chunk objects are
/// built only here; a first attempt passes through as bytes.
/// </summary>
internal static class ChunkSplice
{
    /// <summary>The chunk as the client gets it, or null when it is swallowed.</summary>
    public static ChatCompletionChunk? Spliced(Segment segment, Transcript transcript, ChatCompletionChunk chunk, Action<Segment> gotToken, Action<Segment, ulong, ulong> track)
    {
        var plan = segment.Plan;
        if (chunk.Choices.Count == 0)
        {
            if (chunk.Usage is null) return null;
            segment.Ended = true;
            return Rewrite(transcript, chunk, null, chunk.Usage, keepContent: true);
        }

        var choice = chunk.Choices[0];
        if (chunk.Choices.Count > 1 || choice.Index > 0) transcript.MultipleChoices = true;
        var content = choice.Delta.Content;
        var toolCalls = choice.Delta.Extra?.ContainsKey("tool_calls") == true;
        var finish = choice.FinishReason;
        var isToken = !string.IsNullOrEmpty(content) || toolCalls || finish is not null;
        if (isToken) gotToken(segment);
        if (!string.IsNullOrEmpty(content)) segment.ContentEvents++;

        if (plan.Continuation && !isToken && choice.Delta.Role is not null) return null;   // the client has its role chunk
        if (segment.Replay is { } replay)
        {
            if (!string.IsNullOrEmpty(content))
            {
                // Fed even after catching up: the matcher also keeps the seam's whitespace from doubling.
                if (!replay.TryFeed(content, out var fresh)) throw new ReplayDivergedException("the replayed answer differs from the text already sent");
                content = fresh;
            }
            if (!replay.Matched && (finish is not null || toolCalls))
                throw new ReplayDivergedException("the replayed answer ended before reproducing the text already sent");
            if (string.IsNullOrEmpty(content) && finish is null && !toolCalls) return null;   // catching up, or only seam whitespace
        }
        if (transcript.ChunksForwarded == 0 && transcript.CompletionId is null)
        {
            transcript.CompletionId = chunk.Id;
            transcript.Created = chunk.Created;
        }
        if (plan.Strategy is { } strategy && !segment.Recorded)
        {
            segment.Recorded = true;   // a resume counts once its first new chunk reaches the client
            transcript.Resumes.Add(strategy.ToString().ToLowerInvariant());
        }
        transcript.Forwarded(content);
        if (toolCalls) transcript.HasToolCalls = true;
        ulong choices = 0, finished = 0;
        foreach (var c in chunk.Choices)
        {
            var bit = 1UL << Math.Min(c.Index, 63);
            choices |= bit;
            if (c.FinishReason is not null) finished |= bit;
        }
        track(segment, choices, finished);
        return Rewrite(transcript, chunk, content, null, keepContent: ReferenceEquals(content, choice.Delta.Content));
    }

    private static ChatCompletionChunk Rewrite(Transcript transcript, ChatCompletionChunk chunk, string? content, Usage? usage, bool keepContent)
    {
        var resumed = transcript.Resumes.Count > 0;
        var sameId = transcript.CompletionId is null || chunk.Id == transcript.CompletionId;
        var marks = resumed && (usage is not null || chunk.Choices.Any(c => c.FinishReason is not null));
        var extraTokens = usage is not null ? transcript.UnreportedTokens + transcript.UnreportedPromptTokens : 0;
        if (sameId && keepContent && !marks && extraTokens == 0) return chunk;

        var choices = chunk.Choices;
        if (!keepContent)
        {
            var first = choices[0];
            var delta = new ChatDelta { Role = first.Delta.Role, Content = content, Extra = first.Delta.Extra };
            choices = [new ChunkChoice { Index = first.Index, Delta = delta, FinishReason = first.FinishReason, Extra = first.Extra }, .. choices.Skip(1)];
        }
        var extra = chunk.Extra;
        if (marks)
        {
            extra = extra is null ? [] : new Dictionary<string, JsonElement>(extra);
            extra["orchestrator"] = ResumeMark(transcript);
        }
        return new ChatCompletionChunk
        {
            Id = transcript.CompletionId ?? chunk.Id,
            Object = chunk.Object,
            Created = transcript.CompletionId is null ? chunk.Created : transcript.Created,
            Model = chunk.Model,
            Choices = choices,
            Usage = usage is null ? chunk.Usage : Summed(usage, transcript),
            Extra = extra,
        };
    }

    /// <summary>The last attempt's usage with what the cut ones cost added: the figures the request is billed for.</summary>
    private static Usage Summed(Usage usage, Transcript transcript) => new()
    {
        PromptTokens = usage.PromptTokens + transcript.UnreportedPromptTokens,
        CompletionTokens = usage.CompletionTokens + transcript.UnreportedTokens,
        TotalTokens = usage.TotalTokens + transcript.UnreportedPromptTokens + transcript.UnreportedTokens,
        Extra = usage.Extra,
    };

    /// <summary><c>"orchestrator":{"resumed":N,"strategies":[..],"estimated_completion_tokens":N}</c> on the finishing chunks.</summary>
    private static JsonElement ResumeMark(Transcript transcript)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("resumed"u8, transcript.Resumes.Count);
            writer.WriteStartArray("strategies"u8);
            foreach (var strategy in transcript.Resumes) writer.WriteStringValue(strategy);
            writer.WriteEndArray();
            writer.WriteNumber("estimated_completion_tokens"u8, transcript.UnreportedTokens);
            writer.WriteNumber("estimated_prompt_tokens"u8, transcript.UnreportedPromptTokens);
            writer.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
