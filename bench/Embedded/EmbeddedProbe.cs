using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Actors.Embedding;
using Orchestrator.Bench.LoadGen;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Bench.Embedded;

/// <summary>
/// One streamed answer through <see cref="OrchestratorClient.StreamAsync"/>, checked like <c>StreamCheck</c> checks
/// an HTTP answer: every non-empty <c>delta.content</c> must be the next expected token, all of them, nothing more.
/// The engine's end of the stream stands for <c>[DONE]</c>; an engine error or a cut stream is an error.
/// </summary>
public sealed class EmbeddedProbe(OrchestratorClient engine)
{
    public Func<CancellationToken, Task<Outcome>> For(RequestShape shape)
    {
        // The same body the load generator sends (model bench, max_tokens, bench_pace_ms), as the HTTP edge would pass it.
        using var body = JsonDocument.Parse(shape.Body);
        var request = new ChatRequest(shape.Model, Stream: true, IncludeUsage: false, shape.Chunks, body.RootElement.Clone());
        var expected = Enumerable.Range(0, shape.Chunks).Select(CannedAnswer.Token).ToArray();
        return ct => SendAsync(request, expected, ct);
    }

    private async Task<Outcome> SendAsync(ChatRequest request, string[] expected, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        long firstContent = 0;
        var received = 0;
        try
        {
            await foreach (var chunk in engine.StreamAsync(request, ct))
            {
                foreach (var choice in chunk.Choices)
                {
                    var content = choice.Delta.Content;
                    if (string.IsNullOrEmpty(content)) continue;
                    // Returning leaves the loop, which cancels the stream and its upstream call.
                    if (received == expected.Length) return new Outcome(start, Stopwatch.GetTimestamp(), firstContent, "too many chunks");
                    if (content != expected[received]) return new Outcome(start, Stopwatch.GetTimestamp(), firstContent, "wrong content");
                    if (received++ == 0) firstContent = Stopwatch.GetTimestamp();
                }
            }

            var error = received == expected.Length ? null : $"{received}/{expected.Length} chunks";
            return new Outcome(start, Stopwatch.GetTimestamp(), firstContent, error);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new Outcome(start, Stopwatch.GetTimestamp(), 0, "timeout");
        }
        catch (OrchestratorException e)
        {
            return new Outcome(start, Stopwatch.GetTimestamp(), 0, $"engine {e.Error.Status}");
        }
        catch (Exception e)
        {
            return new Outcome(start, Stopwatch.GetTimestamp(), 0, e.GetType().Name);
        }
    }
}
