using System.Text;
using System.Text.RegularExpressions;

namespace Orchestrator.Actors.Dialects.Responses;

/// <summary>
/// A custom tool call's input as the upstream streams it: the arguments of its chat function, <c>{"input": "..."}</c>,
/// arrive in pieces, and the string inside is decoded as far as it has come, so the client's
/// <c>response.custom_tool_call_input.delta</c> events follow the model rather than wait for the call's end. An
/// escape cut between pieces waits for the rest. Arguments of another shape are not streamed: the call's end tells
/// the whole input (<see cref="ResponseOutputItem.InputText"/>).
/// </summary>
internal sealed partial class CustomInputReader
{
    /// <summary>Past this many characters without the <c>{"input": "</c> opening, the arguments are not of our shape.</summary>
    private const int MaxOpening = 64;

    private int _next = -1;   // the next character of the arguments to decode; -1 until the opening is found
    private bool _done;

    /// <summary>What has been told so far.</summary>
    public StringBuilder Streamed { get; } = new();

    [GeneratedRegex("^\\s*\\{\\s*\"input\"\\s*:\\s*\"")]
    private static partial Regex Opening();

    /// <summary>The input decoded since the last call (empty when nothing new is whole yet).</summary>
    public string Read(StringBuilder arguments)
    {
        if (_done) return "";
        var text = arguments.ToString();
        if (_next < 0)
        {
            var opening = Opening().Match(text);
            if (!opening.Success)
            {
                if (text.Length > MaxOpening) _done = true;
                return "";
            }
            _next = opening.Length;
        }
        var piece = new StringBuilder();
        var i = _next;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '"')
            {
                _done = true;   // the string's end: what follows is JSON, not input
                break;
            }
            if (c != '\\')
            {
                piece.Append(c);
                i++;
                continue;
            }
            if (i + 1 >= text.Length) break;
            var escape = text[i + 1];
            if (escape != 'u')
            {
                piece.Append(escape switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'f' => '\f', _ => escape });
                i += 2;
                continue;
            }
            if (i + 6 > text.Length || !TryHex(text, i + 2, out var unit)) break;
            if (char.IsHighSurrogate(unit))
            {
                // A pair is told whole: half of it is no character.
                if (i + 12 > text.Length) break;
                if (text[i + 6] == '\\' && text[i + 7] == 'u' && TryHex(text, i + 8, out var low) && char.IsLowSurrogate(low))
                {
                    piece.Append(unit).Append(low);
                    i += 12;
                    continue;
                }
            }
            piece.Append(unit);
            i += 6;
        }
        _next = i;
        Streamed.Append(piece);
        return piece.ToString();
    }

    private static bool TryHex(string text, int at, out char unit)
    {
        var ok = ushort.TryParse(text.AsSpan(at, 4), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var value);
        unit = (char)value;
        return ok;
    }
}
