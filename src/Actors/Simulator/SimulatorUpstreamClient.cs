using System.Collections.Immutable;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;

namespace Orchestrator.Actors.Simulator;

/// <summary>
/// The built-in provider (kind <c>simulator</c>): answers in-process, streaming a token every <c>token-delay</c>,
/// so a fresh machine with no keys serves real-looking completions.
/// </summary>
public sealed class SimulatorUpstreamClient(ProviderSettings settings, TimeProvider time) : IUpstreamClient
{
    private readonly SimulatorSettings _simulator = settings.Simulator;

    public async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var answer = SimulatedAnswer.For(call.Request.Body, _simulator.CompletionTokens, call.Request.MaxTokens);
        var id = "chatcmpl-sim-" + Guid.NewGuid().ToString("N")[..24];
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var usage = new Usage
        {
            PromptTokens = answer.PromptTokens,
            CompletionTokens = answer.Tokens.Length,
            TotalTokens = answer.PromptTokens + answer.Tokens.Length,
        };

        if (!call.Request.Stream)
        {
            // As long as the streamed answer would take, so timeouts behave the same either way.
            var thinking = _simulator.TokenDelay * answer.Tokens.Length;
            if (thinking > TimeSpan.Zero) await Task.Delay(thinking, time, cancellationToken);
            return new UpstreamCompletion(new ChatCompletion
            {
                Id = id,
                Created = created,
                Model = call.UpstreamModel,
                Choices = [new CompletionChoice { Message = new AssistantMessage { Content = answer.Text }, FinishReason = answer.FinishReason }],
                Usage = usage,
            });
        }

        var chunks = Chunks(answer, id, created, call.UpstreamModel, call.Request.IncludeUsage ? usage : null);
        var source = Source.From(chunks);
        if (_simulator.TokenDelay > TimeSpan.Zero) source = source.Throttle(1, _simulator.TokenDelay, 1, ThrottleMode.Shaping);
        return new UpstreamStream(source.Named($"simulator-{settings.Name}"), NothingToRelease.Instance);
    }

    /// <summary>The chunks OpenAI would send: role first, a token each, the finish reason, then usage if asked for.</summary>
    private static ImmutableArray<ChatCompletionChunk> Chunks(SimulatedAnswer answer, string id, long created, string model, Usage? usage)
    {
        var chunks = ImmutableArray.CreateBuilder<ChatCompletionChunk>(answer.Tokens.Length + 3);
        ChatCompletionChunk Chunk(ChatDelta delta, string? finish) => new()
        {
            Id = id,
            Created = created,
            Model = model,
            Choices = [new ChunkChoice { Delta = delta, FinishReason = finish }],
        };
        chunks.Add(Chunk(new ChatDelta { Role = "assistant", Content = "" }, null));
        foreach (var token in answer.Tokens) chunks.Add(Chunk(new ChatDelta { Content = token }, null));
        chunks.Add(Chunk(ChatDelta.Empty, answer.FinishReason));
        if (usage is not null) chunks.Add(new ChatCompletionChunk { Id = id, Created = created, Model = model, Choices = [], Usage = usage });
        return chunks.ToImmutable();
    }

    /// <summary>In-process: the simulator is always there.</summary>
    public Task ProbeAsync(TimeSpan timeout) => Task.CompletedTask;

    public UpstreamMeters Meters { get; } = new();

    public void Dispose()
    {
    }

    private sealed class NothingToRelease : IDisposable
    {
        public static readonly NothingToRelease Instance = new();
        public void Dispose()
        {
        }
    }
}
