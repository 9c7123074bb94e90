using System.Text;
using System.Text.Json;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// The tools a Responses request declares (in <c>tools</c> and in <c>additional_tools</c> input items), each under
/// the name its chat translation gives it, so a call can go up as a chat function and come back in the client's
/// form. Function tools keep their name; a <c>namespace</c> tool's functions are flattened to <c>ns__name</c> (the
/// API's own top-level namespace, <c>functions</c>, keeps bare names); a <c>custom</c> (freeform) tool becomes a
/// function with one string argument, <c>input</c>, and its call comes back as a <c>custom_tool_call</c> with that
/// string unwrapped. Chat names are kept within chat's rule (<c>^[a-zA-Z0-9_-]{1,64}$</c>) and stay the same for
/// the same declaration, so a conversation's earlier calls find their tool again on the next turn.
/// </summary>
public sealed class ResponsesToolMap
{
    /// <summary>The namespace the Responses API puts top-level tools in; its tools keep bare names in chat.</summary>
    public const string DefaultNamespace = "functions";

    /// <summary>The one argument a custom tool's chat function takes.</summary>
    public const string CustomInputArgument = "input";

    private const int MaxChatName = 64;

    public enum ToolKind { Function, Custom }

    /// <param name="ChatName">The function's name in the chat translation.</param>
    /// <param name="Namespace">The namespace it was declared in, or null for a top-level tool.</param>
    /// <param name="Definition">The client's tool object (for its description, parameters, format).</param>
    public sealed record Tool(string ChatName, ToolKind Kind, string? Namespace, string Name, JsonElement Definition);

    private readonly List<Tool> _tools = [];
    private readonly Dictionary<string, Tool> _byChatName = new(StringComparer.Ordinal);
    private readonly Dictionary<(string? Namespace, string Name), Tool> _byClientName = [];

    /// <summary>The map of a request with no tools.</summary>
    public static ResponsesToolMap Empty { get; } = new();

    public IReadOnlyList<Tool> Tools => _tools;

    public bool IsEmpty => _tools.Count == 0;

    /// <summary>Tools the client declared that the translation cannot offer (hosted ones): dropped and named.</summary>
    public int Declined { get; internal set; }

    /// <summary>Declares a tool; a second declaration of the same name (in the same namespace) is ignored.</summary>
    internal Tool Add(ToolKind kind, string? ns, string name, JsonElement definition)
    {
        if (ns == DefaultNamespace && _byClientName.TryGetValue((null, name), out var topLevel)) return topLevel;
        if (_byClientName.TryGetValue((ns, name), out var known)) return known;
        var chatName = ChatNameFor(ns, name);
        for (var n = 2; _byChatName.ContainsKey(chatName); n++) chatName = Fit($"{chatName}_{n}");
        var tool = new Tool(chatName, kind, ns, name, definition);
        _tools.Add(tool);
        _byChatName[chatName] = tool;
        _byClientName[(ns, name)] = tool;
        return tool;
    }

    /// <summary>The declared tool a chat function name stands for.</summary>
    public Tool? ByChatName(string chatName) => _byChatName.GetValueOrDefault(chatName);

    /// <summary>The declared tool the client names (as in a <c>function_call</c> item or a <c>tool_choice</c>).</summary>
    public Tool? ByClientName(string? ns, string name)
    {
        if (_byClientName.TryGetValue((ns, name), out var tool)) return tool;
        // A call of a top-level tool may name the default namespace, and one of a default-namespace tool may name none.
        if (ns == DefaultNamespace) return _byClientName.GetValueOrDefault((null, name));
        return ns is null ? _byClientName.GetValueOrDefault((DefaultNamespace, name)) : null;
    }

    /// <summary>The chat name a call of <paramref name="name"/> goes up as, declared or not (an old call of a tool no longer offered).</summary>
    public string ChatNameOf(string? ns, string name) => ByClientName(ns, name)?.ChatName ?? ChatNameFor(ns, name);

    private static string ChatNameFor(string? ns, string name) =>
        ns is null or DefaultNamespace ? Fit(name) : Fit($"{ns}__{name}");

    /// <summary>Chat's name rule: characters outside <c>[a-zA-Z0-9_-]</c> become <c>_</c>; a long name keeps its start and a hash of the whole.</summary>
    internal static string Fit(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, MaxChatName + 1));
        foreach (var c in name) builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        if (builder.Length == 0) builder.Append("tool");
        if (builder.Length <= MaxChatName && builder.ToString() == name) return name;
        if (builder.Length <= MaxChatName) return builder.ToString();
        var hash = Fnv1a(name).ToString("x8");
        return builder.ToString(0, MaxChatName - 9) + "_" + hash;
    }

    // Stable across processes (string.GetHashCode is randomized per process): the same tool gets the same name on every turn.
    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619u;
        return hash;
    }
}
