using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Streams;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Simulator;

/// <summary>
/// The built-in provider (kind <c>simulator</c>): answers in-process, streaming a token every <c>token-delay</c>,
/// so a fresh machine with no keys serves real-looking completions. A <see cref="FaultPlan"/> (the request's
/// <c>x-simulator-fault</c>, else the provider's <c>fault</c>) makes it refuse, stall or break streams on purpose.
/// </summary>
public sealed class SimulatorUpstreamClient(ProviderSettings settings, TimeProvider time) : IUpstreamClient
{
    private static readonly UpstreamFailure PrefillRefused = new(
        FailureKind.CallerFault,
        400,
        "This model does not support assistant prefill (the last message must not be from the assistant).",
        "prefill_unsupported",
        "messages");

    private readonly SimulatorSettings _simulator = settings.Simulator;

    public async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var request = call.Request;
        // The edge has validated the header; an embedder setting the property directly has not.
        if (!TryPlan(request, out var plan, out var invalid)) return new UpstreamRefusal(invalid);
        var fault = plan is not null && plan.AppliesTo(call.Attempt) ? plan : null;   // this attempt's, past times there is none
        if (fault is { FirstByteDelay: var delay } && delay > TimeSpan.Zero) await Task.Delay(delay, time, cancellationToken);
        if (plan is { RefusePrefill: true } && SimulatedAnswer.EndsWithAssistant(request.Body)) return new UpstreamRefusal(PrefillRefused);
        if (fault?.Status is { } status) return new UpstreamRefusal(Refusal(fault, status));
        var streamBreak = fault?.Break;

        var answer = SimulatedAnswer.For(request.Body, _simulator.CompletionTokens, request.MaxTokens);
        var toolCall = SimulatedToolCall.For(request.Body);
        if (toolCall is not null) answer = answer.Calling(toolCall);
        var id = "chatcmpl-sim-" + Guid.NewGuid().ToString("N")[..24];
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var usage = new Usage
        {
            PromptTokens = answer.PromptTokens,
            CompletionTokens = answer.Tokens.Length,
            TotalTokens = answer.PromptTokens + answer.Tokens.Length,
        };
        var sent = streamBreak is null ? answer.Tokens.Length : Math.Min(streamBreak.AfterTokens, answer.Tokens.Length);

        if (!request.Stream)
        {
            // As long as the streamed answer would take, so timeouts behave the same either way.
            var thinking = _simulator.TokenDelay * sent;
            if (thinking > TimeSpan.Zero) await Task.Delay(thinking, time, cancellationToken);
            switch (streamBreak?.Kind)
            {
                case StreamBreakKind.Stall:
                    await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
                    throw new UnreachableException();
                case StreamBreakKind.Drop or StreamBreakKind.Eof:
                    // A body cut short cannot be parsed, so to the caller both look like a reset.
                    throw ConnectionReset();
            }
            var message = toolCall is null
                ? new AssistantMessage { Content = answer.Text }
                : new AssistantMessage { Content = null, Extra = new() { ["tool_calls"] = ToolCalls(toolCall, toolCall.Arguments, first: true) } };
            return new UpstreamCompletion(JsonSerializer.SerializeToUtf8Bytes(new ChatCompletion
            {
                Id = id,
                Created = created,
                Model = call.UpstreamModel,
                Choices = [new CompletionChoice { Message = message, FinishReason = answer.FinishReason }],
                Usage = usage,
            }, WireJson.Default.ChatCompletion));
        }

        // A broken stream never reaches its finish reason or usage: that is what a relay must notice.
        var chunks = streamBreak is null
            ? Chunks(answer, answer.Tokens.Length, id, created, call.UpstreamModel, finished: true, request.IncludeUsage ? usage : null, toolCall)
            : Chunks(answer, sent, id, created, call.UpstreamModel, finished: false, null, toolCall);
        // The reset travels as a marker behind the last token and is thrown where it comes out: a failed source
        // joined with Concat fails the stream at once (Concat subscribes to both inputs), and one failing under
        // the throttle would overtake the token it holds back.
        var events = chunks.Select(SseBytes.Event).ToImmutableArray();
        var reset = ByteString.FromString("reset");
        if (streamBreak?.Kind == StreamBreakKind.Drop) events = events.Add(reset);
        var source = Source.From(events);
        if (_simulator.TokenDelay > TimeSpan.Zero) source = source.Throttle(1, _simulator.TokenDelay, 1, ThrottleMode.Shaping);
        source = streamBreak?.Kind switch
        {
            StreamBreakKind.Drop => source.Select(bytes => ReferenceEquals(bytes, reset) ? throw ConnectionReset() : bytes),
            StreamBreakKind.Stall => source.Concat(Source.Never<ByteString>()),   // ends only when cancelled
            _ => source,
        };
        return new UpstreamStream(StreamedBody.FromSource(source.Named($"simulator-{settings.Name}")));
    }

    /// <summary>The request's plan, else the provider's; false (with the refusal to send) when the request's does not parse.</summary>
    private bool TryPlan(ChatRequest request, out FaultPlan? plan, [NotNullWhen(false)] out UpstreamFailure? invalid)
    {
        invalid = null;
        plan = _simulator.Fault;
        if (request.SimulatorFault is null) return true;
        if (FaultPlan.TryParse(request.SimulatorFault, out plan, out var error)) return true;
        invalid = new UpstreamFailure(FailureKind.CallerFault, 400, $"Invalid x-simulator-fault header: {error}.", "invalid_fault_plan", "x-simulator-fault");
        return false;
    }

    private static UpstreamFailure Refusal(FaultPlan plan, int status)
    {
        var kind = FailureClassifier.Classify(status);
        // Only a caller fault carries the provider's own words to the client; others are summarised by status.
        var message = kind == FailureKind.CallerFault
            ? $"Simulated fault: the provider refused the request (HTTP {status})."
            : $"HTTP {status} (simulated)";
        return new UpstreamFailure(kind, status, message, plan.Code, null) { RetryAfter = plan.RetryAfter };
    }

    private static IOException ConnectionReset() => new("simulated connection reset");

    /// <summary>
    /// The chunks OpenAI would send: role first, a token each (the first <paramref name="tokens"/>), the finish
    /// reason when <paramref name="finished"/>, then usage if given.
    /// </summary>
    private static ImmutableArray<ChatCompletionChunk> Chunks(SimulatedAnswer answer, int tokens, string id, long created, string model, bool finished, Usage? usage, SimulatedToolCall? toolCall)
    {
        var chunks = ImmutableArray.CreateBuilder<ChatCompletionChunk>(tokens + 3);
        ChatCompletionChunk Chunk(ChatDelta delta, string? finish) => new()
        {
            Id = id,
            Created = created,
            Model = model,
            Choices = [new ChunkChoice { Delta = delta, FinishReason = finish }],
        };
        chunks.Add(Chunk(new ChatDelta { Role = "assistant", Content = toolCall is null ? "" : null }, null));
        var first = true;
        foreach (var token in answer.Tokens.AsSpan(0, tokens))
        {
            // A tool call's tokens are pieces of its arguments; the first piece also names the call.
            chunks.Add(toolCall is null
                ? Chunk(new ChatDelta { Content = token }, null)
                : Chunk(new ChatDelta { Extra = new() { ["tool_calls"] = ToolCalls(toolCall, token, first) } }, null));
            first = false;
        }
        if (finished) chunks.Add(Chunk(ChatDelta.Empty, answer.FinishReason));
        if (usage is not null) chunks.Add(new ChatCompletionChunk { Id = id, Created = created, Model = model, Choices = [], Usage = usage });
        return chunks.ToImmutable();
    }

    /// <summary><c>[{"index":0,"id",...,"function":{"name","arguments"}}]</c>; id, type and name only on the first delta, as OpenAI streams them.</summary>
    private static JsonElement ToolCalls(SimulatedToolCall call, string arguments, bool first)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            if (first)
            {
                json.WriteString("id"u8, call.Id);
                json.WriteString("type"u8, "function"u8);
            }
            json.WriteStartObject("function"u8);
            if (first) json.WriteString("name"u8, call.Name);
            json.WriteString("arguments"u8, arguments);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>In-process: the simulator is always there.</summary>
    public Task ProbeAsync(TimeSpan timeout) => Task.CompletedTask;

    public UpstreamMeters Meters { get; } = new();

    public void Dispose()
    {
    }
}
