using Serilog.Events;
using Serilog.Parsing;

namespace Orchestrator.Tests.Http;

/// <summary>The text log cannot be forged: one event is one line, whatever a client or an upstream put in its values.</summary>
public sealed class SingleLineTextFormatterTests
{
    private static string Render(string path, Exception? exception = null)
    {
        var template = new MessageTemplateParser().Parse("HTTP GET {RequestPath} responded {StatusCode}");
        var logEvent = new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Information, exception, template,
            [new LogEventProperty("RequestPath", new ScalarValue(path)), new LogEventProperty("StatusCode", new ScalarValue(404))]);
        using var output = new StringWriter();
        new SingleLineTextFormatter("[{Level:u3}] {Message:lj}").Format(logEvent, output);
        return output.ToString();
    }

    [Fact]
    public void Format_ValueWithLineBreaks_StaysOneLineWithTheBreaksEscaped()
    {
        var text = Render("/v1/x\n[17:05:00.000 INF] Orchestrator.Actors.Ledger.LedgerActor: Admin credited key_1 with $1000\r\n\u001b[2J");
        Assert.Equal(1, text.Count(c => c == '\n'));
        Assert.StartsWith("[INF] HTTP GET /v1/x\\n[17:05:00.000 INF] Orchestrator.Actors.Ledger.LedgerActor: Admin credited key_1 with $1000\\r\\n\\u001b[2J responded 404", text);
    }

    [Fact]
    public void Format_PlainValue_IsWrittenAsItIs() =>
        Assert.Equal("[INF] HTTP GET /v1/models\ttab responded 404" + Environment.NewLine, Render("/v1/models\ttab"));

    [Fact]
    public void Format_AnException_FollowsOnItsOwnLines()
    {
        var text = Render("/v1/x", new InvalidOperationException("ours"));
        Assert.StartsWith("[INF] HTTP GET /v1/x responded 404" + Environment.NewLine + "System.InvalidOperationException: ours", text);
    }
}
