using System.Text.Json;

namespace Orchestrator.Actors.Streams;

/// <summary>
/// What the engine needs to know of one OpenAI <c>chat.completion.chunk</c>, read in one pass with
/// <see cref="Utf8JsonReader"/> and no object model: the chunk's bytes go to the client as they came, and only
/// these facts decide how the stream goes on (finish, usage, an error, whether text reached the client).
/// </summary>
public ref struct ChunkFacts
{
    /// <summary>Choice indexes seen in this chunk, one bit each (index 63 and above share the last bit).</summary>
    public ulong Choices;
    /// <summary>Choice indexes that carry a finish_reason.</summary>
    public ulong Finished;
    public int ChoiceCount;
    public bool HasContent;
    public bool HasToolCalls;
    public bool HasUsage;
    public bool HasError;
    public string? ErrorCode;
    /// <summary>The HTTP status an error chunk carries, when it says (errors decoded from another dialect do).</summary>
    public int? ErrorStatus;
    /// <summary>The error's message; read only with <see cref="ErrorStatus"/> (a caller fault's words reach the caller).</summary>
    public string? ErrorMessage;
    /// <summary>The chunk's id and created time; read only when asked for (the first chunk of a stream).</summary>
    public string? Id;
    public long Created;
    /// <summary>The usage object's counts, when <see cref="HasUsage"/>.</summary>
    public UsageCounts Usage;
    /// <summary>The last finish_reason seen in this chunk.</summary>
    public string? FinishReason;
    /// <summary>Bytes of unescaped content text written to the text buffer (0 when not asked for).</summary>
    public int TextBytes;

    public readonly bool IsToken => HasContent || HasToolCalls || Finished != 0;
    public readonly bool MultipleChoices => ChoiceCount > 1 || (Choices & ~1UL) != 0;
}

public static class ChunkScan
{
    /// <summary>
    /// Scans <paramref name="json"/>. False when it is not a JSON object, or a field the engine reads has the wrong
    /// type (the event is skipped, as one bad event must not cost the whole answer). With <paramref name="text"/>,
    /// the content of every choice is unescaped into it from <paramref name="textStart"/> on (grown as needed).
    /// </summary>
    public static bool TryScan(ReadOnlySpan<byte> json, bool wantId, ref byte[]? text, int textStart, out ChunkFacts facts)
    {
        facts = default;
        try
        {
            return Scan(json, wantId, ref text, textStart, ref facts);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Scan(ReadOnlySpan<byte> json, bool wantId, ref byte[]? text, int textStart, ref ChunkFacts facts)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray) return false;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject || !ScanChoice(ref reader, ref text, textStart, ref facts)) return false;
                    facts.ChoiceCount++;
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    facts.HasUsage = true;
                    facts.Usage = ReadUsage(ref reader);
                }
                else if (reader.TokenType != JsonTokenType.Null) return false;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                facts.HasError = true;
                if (reader.TokenType == JsonTokenType.StartObject) ReadError(ref reader, ref facts);
                else reader.Skip();
            }
            else if (wantId && reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) facts.Id = reader.GetString();
                else reader.Skip();
            }
            else if (wantId && reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var created)) facts.Created = created;
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // The object is closed, and nothing but whitespace may follow it.
        return reader.TokenType == JsonTokenType.EndObject && !reader.Read();
    }

    private static bool ScanChoice(ref Utf8JsonReader reader, ref byte[]? text, int textStart, ref ChunkFacts facts)
    {
        var index = 0;
        var finished = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out index) || index < 0) return false;
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    finished = true;
                    facts.FinishReason = FinishReasonOf(ref reader);
                }
                else if (reader.TokenType != JsonTokenType.Null) return false;
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartObject || !ScanDelta(ref reader, ref text, textStart, ref facts)) return false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        var bit = 1UL << Math.Min(index, 63);
        facts.Choices |= bit;
        if (finished) facts.Finished |= bit;
        return true;
    }

    private static bool ScanDelta(ref Utf8JsonReader reader, ref byte[]? text, int textStart, ref ChunkFacts facts)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.String) return false;
                var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                if (length == 0) continue;
                facts.HasContent = true;
                if (text is not null) facts.TextBytes += CopyText(ref reader, ref text, textStart + facts.TextBytes, length);
            }
            else if (reader.ValueTextEquals("role"u8))
            {
                // Not needed to decide anything, but a role that is not a string makes the chunk unreadable.
                reader.Read();
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null)) return false;
            }
            else if (reader.ValueTextEquals("tool_calls"u8) || reader.ValueTextEquals("function_call"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null) facts.HasToolCalls = true;
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return true;
    }

    /// <summary>Unescapes the current string into <paramref name="text"/> at <paramref name="at"/>; an unescaped string is never longer than its JSON.</summary>
    private static int CopyText(ref Utf8JsonReader reader, ref byte[] text, int at, int jsonLength)
    {
        if (text.Length - at < jsonLength)
        {
            var bigger = new byte[Math.Max(at + jsonLength, Math.Max(text.Length * 2, 256))];
            text.AsSpan(0, at).CopyTo(bigger);
            text = bigger;
        }
        return reader.CopyString(text.AsSpan(at));
    }

    /// <summary>
    /// The counts billing needs from a usage object (the reader on its start; left on its end). A count that is not
    /// a whole number is read as 0 rather than costing the event.
    /// </summary>
    private static UsageCounts ReadUsage(ref Utf8JsonReader reader)
    {
        var usage = new UsageCounts();
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) continue;
            if (reader.ValueTextEquals("prompt_tokens"u8)) usage.Input = Count(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8)) usage.Output = Count(ref reader);
            else if (reader.ValueTextEquals("cached_tokens"u8)) usage.CachedInput = Count(ref reader);
            else if (reader.ValueTextEquals("reasoning_tokens"u8)) usage.Reasoning = Count(ref reader);
            else if (reader.ValueTextEquals("estimated"u8))
            {
                reader.Read();
                usage.Estimated = reader.TokenType == JsonTokenType.True;
            }
        }
        return usage;
    }

    private static long Count(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var count) && count > 0 ? count : 0;
    }

    private static readonly string[] KnownReasons = ["stop", "length", "tool_calls", "content_filter", "function_call"];

    /// <summary>The finish_reason, without a new string for the usual ones.</summary>
    private static string FinishReasonOf(ref Utf8JsonReader reader)
    {
        foreach (var known in KnownReasons)
            if (reader.ValueTextEquals(known)) return known;
        var reason = reader.GetString()!;
        return reason.Length <= 64 ? reason : reason[..64];
    }

    private static void ReadError(ref Utf8JsonReader reader, ref ChunkFacts facts)
    {
        string? message = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) facts.ErrorCode = reader.GetString();
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var status)) facts.ErrorStatus = status;
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) message = reader.GetString();
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (facts.ErrorStatus is not null) facts.ErrorMessage = message;
    }
}
