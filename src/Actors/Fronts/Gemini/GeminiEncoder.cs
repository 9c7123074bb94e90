using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Actors.Dialects;
using Orchestrator.Messages.Answers;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Fronts.Gemini;

/// <summary>
/// Writes the canonical answer as Gemini's <c>streamGenerateContent</c>: a sequence of whole
/// <c>GenerateContentResponse</c> objects, each <c>{"candidates":[{"content":{"role":"model","parts":[...]},"index"}],
/// "modelVersion","responseId"}</c>, as SSE (<c>alt=sse</c>: <c>data: {json}\r\n\r\n</c>, one line per event) or as
/// the one JSON array Google streams without it (<c>[{...},\r\n{...}]</c>).
/// <code>
///   text / thinking delta   -> a response with one text part (a thought part: "thought": true)
///   tool call               -> held until its arguments are whole, then one functionCall part {name, args}
///   thinking signature      -> "thoughtSignature" on the next part (Gemini wants it back on the part it came with)
///   finish + usage          -> the last response: finishReason per candidate, usageMetadata
/// </code>
/// Traps of the google-genai SDK this avoids: its SSE reader matches <c>^\s*data: (.*)\n\n</c> from the start of its
/// buffer, so an SSE comment (the usual keep-alive) would stall the stream for good: the keep-alive here is a blank
/// line, which the SDK skips and the SSE spec ignores. An empty text part with nothing else is an invalid response to
/// Gemini CLI, so none is written. Function calls carry no <c>id</c>: Gemini's own seldom do, and the request
/// translation matches responses to calls by position when there is none.
/// </summary>
public sealed class GeminiEncoder : IAnswerEncoder
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _model;
    private readonly bool _sse;
    private readonly int _inputEstimate;
    private Utf8JsonWriter? _json;
    private string _responseId = "";
    private bool _opened;   // the JSON array's '[' is written
    private int _written;
    private int _choice;   // the candidate of the response being written
    private string? _signature;
    private readonly Dictionary<(int Choice, int Index), (string Name, StringBuilder Arguments)> _calls = [];
    private readonly SortedDictionary<int, FinishReason> _finished = [];
    private TokenUsage? _usage;
    private long _outputCharacters;

    /// <param name="model">The model the client asked for, which is what the answer names.</param>
    /// <param name="sse">True for <c>alt=sse</c>; false for the JSON array.</param>
    /// <param name="inputTokensEstimate">The prompt, estimated: the usage reported if none comes.</param>
    public GeminiEncoder(string model, bool sse, int inputTokensEstimate = 1)
    {
        _model = model;
        _sse = sse;
        _inputEstimate = Math.Max(1, inputTokensEstimate);
    }

    /// <summary>A blank line: nothing to an SSE reader or a JSON parser, and it keeps the connection busy.</summary>
    public ReadOnlySpan<byte> KeepAlive => "\n"u8;

    public void Encode(AnswerEvent answerEvent, IBufferWriter<byte> output)
    {
        switch (answerEvent)
        {
            case MessageStarted started:
                _responseId = started.Id;
                break;
            case TextDelta text:
                if (text.Text.Length == 0) break;
                _outputCharacters += text.Text.Length;
                WriteTextPart(output, text.Choice, text.Text, thought: false);
                break;
            case RefusalDelta refusal:
                if (refusal.Text.Length == 0) break;
                _outputCharacters += refusal.Text.Length;
                WriteTextPart(output, refusal.Choice, refusal.Text, thought: false);
                break;
            case ThinkingDelta thinking:
                if (thinking.Text.Length == 0) break;
                _outputCharacters += thinking.Text.Length;
                WriteTextPart(output, thinking.Choice, thinking.Text, thought: true);
                break;
            case ThinkingSignature signature:
                _signature = signature.Signature;
                break;
            case ToolCallStarted call:
                _calls[(call.Choice, call.Index)] = (call.Name, new StringBuilder());
                break;
            case ToolArgumentsDelta arguments:
                if (_calls.TryGetValue((arguments.Choice, arguments.Index), out var open)) open.Arguments.Append(arguments.Json);
                _outputCharacters += arguments.Json.Length;
                break;
            case ToolCallEnded ended:
                if (_calls.Remove((ended.Choice, ended.Index), out var done)) WriteCall(output, ended.Choice, done.Name, done.Arguments.ToString());
                break;
            case UsageReported usage:
                _usage = usage.Usage;
                break;
            case Finished finished:
                // The finishing response waits for Complete: usage comes after the finish in the engine's stream.
                _finished[finished.Choice] = finished.Reason;
                break;
        }
    }

    /// <summary>The last response: any call still open, each candidate's finishReason, the usage; then the array's end.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        foreach (var ((choice, _), (name, arguments)) in _calls.OrderBy(c => c.Key)) WriteCall(output, choice, name, arguments.ToString());
        _calls.Clear();
        if (_finished.Count == 0) _finished[0] = FinishReason.Stop;

        var json = Begin(output);
        json.WriteStartArray("candidates"u8);
        foreach (var (choice, reason) in _finished)
        {
            json.WriteStartObject();
            json.WriteStartObject("content"u8);
            json.WriteString("role"u8, "model"u8);
            json.WriteStartArray("parts"u8);
            // A signature nothing followed still goes back to the client, on a part of its own.
            if (_signature is not null && choice == _finished.Keys.First())
            {
                json.WriteStartObject();
                json.WriteString("text"u8, ""u8);
                json.WriteString("thoughtSignature"u8, _signature);
                json.WriteEndObject();
                _signature = null;
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString("finishReason"u8, FinishReasonOf(reason));
            json.WriteNumber("index"u8, choice);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        WriteUsage(json, _usage ?? new TokenUsage(_inputEstimate, (int)Math.Max(1, _outputCharacters / 4), Estimated: true));
        End(output);
        if (!_sse) output.Write("]"u8);
    }

    /// <summary>
    /// An error response (Google's <c>{"error":{code,message,status}}</c>, which the SDK raises as an ApiError) and
    /// nothing after it that could pass for a finished answer: no finishReason follows.
    /// </summary>
    public void Fail(ApiError error, IBufferWriter<byte> output)
    {
        Separate(output);
        if (_json is null) _json = new Utf8JsonWriter(output, JsonOptions);
        else _json.Reset(output);
        GeminiFrontErrors.Write(error, _json);
        _json.Flush();
        output.Write(_sse ? "\r\n\r\n"u8 : "]"u8);
    }

    /// <summary>Gemini's names: a call ends with STOP (Gemini has no tool-call finish), a filter with SAFETY.</summary>
    public static string FinishReasonOf(FinishReason reason) => reason switch
    {
        FinishReason.Length => "MAX_TOKENS",
        FinishReason.ContentFilter => "SAFETY",
        _ => "STOP",
    };

    /// <summary>
    /// <c>usageMetadata</c>: Gemini counts thinking apart from the candidates (the canonical output includes it) and
    /// the prompt with its cached part included, as the canonical input does.
    /// </summary>
    public static void WriteUsage(Utf8JsonWriter json, TokenUsage usage)
    {
        json.WriteStartObject("usageMetadata"u8);
        json.WriteNumber("promptTokenCount"u8, usage.InputTokens);
        json.WriteNumber("candidatesTokenCount"u8, Math.Max(0, usage.OutputTokens - usage.ReasoningTokens));
        json.WriteNumber("totalTokenCount"u8, usage.TotalTokens);
        if (usage.CacheReadTokens > 0) json.WriteNumber("cachedContentTokenCount"u8, usage.CacheReadTokens);
        if (usage.ReasoningTokens > 0) json.WriteNumber("thoughtsTokenCount"u8, usage.ReasoningTokens);
        json.WriteEndObject();
    }

    private void WriteTextPart(IBufferWriter<byte> output, int choice, string text, bool thought)
    {
        var json = BeginCandidate(output, choice);
        json.WriteStartObject();
        json.WriteString("text"u8, text);
        if (thought) json.WriteBoolean("thought"u8, true);
        WriteSignature(json, thought);
        json.WriteEndObject();
        EndCandidate(output);
    }

    private void WriteCall(IBufferWriter<byte> output, int choice, string name, string arguments)
    {
        var json = BeginCandidate(output, choice);
        json.WriteStartObject();
        json.WriteStartObject("functionCall"u8);
        json.WriteString("name"u8, name);
        json.WritePropertyName("args"u8);
        WriteArguments(arguments, json);
        json.WriteEndObject();
        WriteSignature(json, thought: false);
        json.WriteEndObject();
        EndCandidate(output);
    }

    /// <summary>The held signature goes on the next answer part; a thought part's own signature comes after its text.</summary>
    private void WriteSignature(Utf8JsonWriter json, bool thought)
    {
        if (_signature is null || thought) return;
        json.WriteString("thoughtSignature"u8, _signature);
        _signature = null;
    }

    /// <summary>Gemini's <c>args</c> is an object (<see cref="JsonBody.WriteObjectOrEmpty"/>).</summary>
    public static void WriteArguments(string arguments, Utf8JsonWriter json) => JsonBody.WriteObjectOrEmpty(arguments, json);

    private Utf8JsonWriter BeginCandidate(IBufferWriter<byte> output, int choice)
    {
        var json = Begin(output);
        json.WriteStartArray("candidates"u8);
        json.WriteStartObject();
        json.WriteStartObject("content"u8);
        json.WriteString("role"u8, "model"u8);
        json.WriteStartArray("parts"u8);
        _choice = choice;
        return json;
    }

    private void EndCandidate(IBufferWriter<byte> output)
    {
        var json = _json!;
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteNumber("index"u8, _choice);
        json.WriteEndObject();
        json.WriteEndArray();
        End(output);
    }

    /// <summary>Opens one response object (after <c>data: </c>, or after the array's separator).</summary>
    private Utf8JsonWriter Begin(IBufferWriter<byte> output)
    {
        Separate(output);
        if (_json is null) _json = new Utf8JsonWriter(output, JsonOptions);
        else _json.Reset(output);
        _json.WriteStartObject();
        return _json;
    }

    private void Separate(IBufferWriter<byte> output)
    {
        if (_sse) output.Write("data: "u8);
        else if (!_opened)
        {
            _opened = true;
            output.Write("["u8);
        }
        else if (_written > 0) output.Write(",\r\n"u8);
        _written++;
    }

    /// <summary>Closes the response with what every one of Google's carries, and ends the event.</summary>
    private void End(IBufferWriter<byte> output)
    {
        var json = _json!;
        json.WriteString("modelVersion"u8, _model);
        json.WriteString("responseId"u8, _responseId);
        json.WriteEndObject();
        json.Flush();
        if (_sse) output.Write("\r\n\r\n"u8);
    }
}
