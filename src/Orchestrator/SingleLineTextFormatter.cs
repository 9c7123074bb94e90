using System.Text;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace Orchestrator;

/// <summary>
/// The text log format, one event per line whatever its values hold: CR, LF and the other control characters in
/// the rendered line (a client's path or header, an upstream's error code) are written as escapes (<c>\n</c>,
/// <c>\r</c>, <c>\u001b</c>), so nobody can forge a line of their own in the log. An exception, ours, follows on the
/// lines after it as .NET writes it.
/// </summary>
public sealed class SingleLineTextFormatter(string lineTemplate) : ITextFormatter
{
    private readonly MessageTemplateTextFormatter _line = new(lineTemplate);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        using var line = new StringWriter();
        _line.Format(logEvent, line);
        output.Write(Escape(line.ToString()));
        output.Write(Environment.NewLine);
        if (logEvent.Exception is { } exception)
        {
            output.Write(exception.ToString());
            output.Write(Environment.NewLine);
        }
    }

    /// <summary>Control characters (TAB excepted) as escapes; the text unchanged, without a copy, when it has none.</summary>
    public static string Escape(string text)
    {
        var span = text.AsSpan();
        var first = -1;
        for (var i = 0; i < span.Length; i++)
        {
            if (char.IsControl(span[i]) && span[i] != '\t') { first = i; break; }
        }
        if (first < 0) return text;
        var escaped = new StringBuilder(text.Length + 16).Append(span[..first]);
        foreach (var c in span[first..])
        {
            if (!char.IsControl(c) || c == '\t') escaped.Append(c);
            else if (c == '\n') escaped.Append("\\n");
            else if (c == '\r') escaped.Append("\\r");
            else escaped.Append("\\u").Append(((int)c).ToString("x4"));
        }
        return escaped.ToString();
    }
}
