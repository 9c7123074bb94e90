using System.Text;
using System.Text.Json;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// One item of a response's <c>output</c> as it builds up: an assistant message (text and refusal parts), a
/// reasoning item (the model's reasoning text, its signature as <c>encrypted_content</c>), a function call or a
/// custom (freeform) tool call, whose <c>input</c> is its chat function's one string argument, unwrapped.
/// The encoder streams the deltas and keeps the whole here, since the <c>.done</c> events and the final response
/// object carry it again.
/// </summary>
internal sealed class ResponseOutputItem
{
    public enum ItemKind { Message, Reasoning, FunctionCall, CustomToolCall }

    public sealed class Part(string type)
    {
        /// <summary><c>output_text</c>, <c>refusal</c> or <c>reasoning_text</c>.</summary>
        public string Type { get; } = type;
        public StringBuilder Text { get; } = new();
    }

    private ResponseOutputItem(ItemKind kind, string id, int outputIndex)
    {
        Kind = kind;
        Id = id;
        OutputIndex = outputIndex;
    }

    public ItemKind Kind { get; }
    public string Id { get; }
    public int OutputIndex { get; }

    /// <summary><c>in_progress</c>, then <c>completed</c> or <c>incomplete</c>.</summary>
    public string Status { get; set; } = "in_progress";
    public bool Done => Status != "in_progress";

    public List<Part> Parts { get; } = [];
    public string? Signature { get; set; }

    public string CallId { get; private init; } = "";
    public string Name { get; private init; } = "";
    /// <summary>The namespace the client declared the tool in, or null for a top-level tool.</summary>
    public string? Namespace { get; private init; }
    /// <summary>The canonical tool index of the choice, to match argument deltas with their call.</summary>
    public int ToolIndex { get; private init; }
    public StringBuilder Arguments { get; } = new();

    /// <summary>A custom tool call's input as far as it has streamed.</summary>
    public CustomInputReader CustomInput { get; } = new();

    public static ResponseOutputItem Message(string id, int outputIndex) => new(ItemKind.Message, id, outputIndex);

    public static ResponseOutputItem Reasoning(string id, int outputIndex) => new(ItemKind.Reasoning, id, outputIndex);

    public static ResponseOutputItem FunctionCall(string id, int outputIndex, int toolIndex, string callId, string name, string? ns = null) =>
        new(ItemKind.FunctionCall, id, outputIndex) { ToolIndex = toolIndex, CallId = callId, Name = name, Namespace = ns };

    public static ResponseOutputItem CustomToolCall(string id, int outputIndex, int toolIndex, string callId, string name, string? ns) =>
        new(ItemKind.CustomToolCall, id, outputIndex) { ToolIndex = toolIndex, CallId = callId, Name = name, Namespace = ns };

    public bool IsCall => Kind is ItemKind.FunctionCall or ItemKind.CustomToolCall;

    /// <summary>
    /// A custom tool call's input: the <c>input</c> string of the arguments its chat function was called with, or
    /// the arguments as they are when the model wrote something else.
    /// </summary>
    public string InputText
    {
        get
        {
            var arguments = Arguments.ToString();
            try
            {
                using var document = JsonDocument.Parse(arguments);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty(ResponsesToolMap.CustomInputArgument, out var input) && input.ValueKind == JsonValueKind.String)
                    return input.GetString()!;
            }
            catch (JsonException)
            {
                // Not the JSON we asked for: the model's text is the input.
            }
            return arguments;
        }
    }

    /// <summary>A call that streamed no argument bytes still has arguments: <c>{}</c>, never an empty string.</summary>
    public string ArgumentsText => Arguments.Length == 0 ? "{}" : Arguments.ToString();

    /// <summary>The item as the API shows it: with its parts so far (none while it is being announced).</summary>
    public void Write(Utf8JsonWriter json, bool withContent = true)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, Id);
        switch (Kind)
        {
            case ItemKind.Message:
                json.WriteString("type"u8, "message"u8);
                json.WriteString("status"u8, Status);
                json.WriteString("role"u8, "assistant"u8);
                json.WriteStartArray("content"u8);
                if (withContent) foreach (var part in Parts) WritePart(json, part);
                json.WriteEndArray();
                break;
            case ItemKind.Reasoning:
                json.WriteString("type"u8, "reasoning"u8);
                json.WriteString("status"u8, Status);
                json.WriteStartArray("summary"u8);
                json.WriteEndArray();
                json.WriteStartArray("content"u8);
                if (withContent) foreach (var part in Parts) WritePart(json, part);
                json.WriteEndArray();
                if (withContent && Signature is not null) json.WriteString("encrypted_content"u8, ResponsesInput.SignaturePrefix + Signature);   // ours, read back on the next turn
                break;
            case ItemKind.FunctionCall:
                json.WriteString("type"u8, "function_call"u8);
                json.WriteString("status"u8, Status);
                json.WriteString("arguments"u8, withContent ? ArgumentsText : "");
                json.WriteString("call_id"u8, CallId);
                json.WriteString("name"u8, Name);
                if (Namespace is not null) json.WriteString("namespace"u8, Namespace);
                break;
            case ItemKind.CustomToolCall:
                json.WriteString("type"u8, "custom_tool_call"u8);
                json.WriteString("status"u8, Status);
                json.WriteString("call_id"u8, CallId);
                json.WriteString("name"u8, Name);
                if (Namespace is not null) json.WriteString("namespace"u8, Namespace);
                json.WriteString("input"u8, withContent ? InputText : "");
                break;
        }
        json.WriteEndObject();
    }

    /// <summary>A content part; an empty one (as announced by <c>content_part.added</c>) when <paramref name="empty"/>.</summary>
    public static void WritePart(Utf8JsonWriter json, Part part, bool empty = false)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, part.Type);
        var text = empty ? "" : part.Text.ToString();
        if (part.Type == "refusal") json.WriteString("refusal"u8, text);
        else json.WriteString("text"u8, text);
        if (part.Type == "output_text")
        {
            json.WriteStartArray("annotations"u8);
            json.WriteEndArray();
            json.WriteStartArray("logprobs"u8);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }
}
