using Orchestrator.Http;
using Serilog.Core;
using Serilog.Events;

namespace Orchestrator;

/// <summary>
/// Every log event, ours, ASP.NET Core's and Akka's alike, has its string properties scrubbed of <c>api_key</c> and <c>key</c>
/// values before a sink sees them, so no code path has to remember to.
/// </summary>
public sealed class ApiKeyRedactionEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? redacted = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (value is ScalarValue { Value: string text } && ApiKeyRedaction.MayHoldKey(text))
                (redacted ??= []).Add(new LogEventProperty(name, new ScalarValue(ApiKeyRedaction.Redact(text))));
        }
        if (redacted is null) return;
        foreach (var property in redacted) logEvent.AddOrUpdateProperty(property);
    }
}
