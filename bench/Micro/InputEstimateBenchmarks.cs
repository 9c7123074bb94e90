using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Orchestrator.Actors.Dialects;

namespace Orchestrator.Bench.Micro;

/// <summary>
/// The prompt estimate a billed request's admission makes (its reservation's input tokens), over a body as clients
/// send it: a system prompt and a question, text with line breaks and quotes, some of it non-ASCII and escaped.
/// <c>Raw</c> is the relay's (lengths read from the raw UTF-8); <c>Unescaped</c> is the same rule over strings
/// made from each value, as the relay did before.
/// </summary>
[MemoryDiagnoser]
public class InputEstimateBenchmarks
{
    private JsonElement _body;

    [Params(1, 64)]
    public int PromptKb { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const string line = "Answer as the support agent of \"Acme\" would: politely, in short paragraphs; café, 東京.\n";
        var text = string.Concat(Enumerable.Repeat(line, Math.Max(1, PromptKb * 1024 / 2 / line.Length)));
        var body = JsonSerializer.Serialize(new
        {
            model = "gpt-4.1",
            messages = new[] { new { role = "system", content = text }, new { role = "user", content = text } },
        });
        _body = JsonDocument.Parse(body).RootElement.Clone();
    }

    [Benchmark(Baseline = true)]
    public int Unescaped() => (int)Math.Max(1, Characters(_body.GetProperty("messages")) / 4 + 3L * _body.GetProperty("messages").GetArrayLength());

    [Benchmark]
    public int Raw() => TokenEstimate.Input(_body);

    private static long Characters(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!.Length,
        JsonValueKind.Array => element.EnumerateArray().Sum(Characters),
        JsonValueKind.Object => element.EnumerateObject().Sum(p => p.Name.Length + Characters(p.Value)),
        JsonValueKind.Number => 2,
        _ => 0,
    };
}
