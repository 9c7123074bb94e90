using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// A Serilog sink that keeps every event as one line of text: the message in <paramref name="template"/>, then every
/// property and the exception, so a test can search everything a log could show.
/// </summary>
internal sealed class CapturingLogSink(string template) : ILogEventSink
{
    private readonly MessageTemplateTextFormatter _format = new(template);

    public ConcurrentQueue<string> Lines { get; } = new();

    public void Emit(LogEvent logEvent)
    {
        using var text = new StringWriter();
        _format.Format(logEvent, text);
        foreach (var property in logEvent.Properties) text.Write($" {property.Key}={property.Value}");
        if (logEvent.Exception is { } ex) text.Write(" " + ex);
        Lines.Enqueue(text.ToString());
    }
}
