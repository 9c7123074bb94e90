using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Anthropic;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// An Anthropic Messages provider (<c>POST {base-url}/messages</c>) over one pooled <see cref="SocketsHttpHandler"/>.
/// The request is translated (<see cref="AnthropicRequest"/>); a streamed answer is read at the consumer's pace and
/// decoded event by event into chat chunks (<see cref="AnthropicStreamDecoder"/>), a whole one converted once
/// (<see cref="AnthropicCompletion"/>). Anthropic's error body (<c>{"type":"error","error":{"type","message"}}</c>)
/// classifies like OpenAI's: its <c>error.type</c> is the code, 529 overloaded is a server error.
/// </summary>
public sealed class AnthropicUpstreamClient(ProviderSettings settings) : HttpUpstreamClient(settings)
{
    /// <summary>The API version this translation is written against (Anthropic's versioning page).</summary>
    public const string ApiVersion = "2023-06-01";

    private Uri Messages => field ??= new Uri(Root + "/messages");

    protected override Uri ProbeUrl => field ??= new Uri(Root + "/models");

    protected override void Authorize(HttpRequestMessage request)
    {
        if (Settings.ApiKey is { } key) request.Headers.Add("x-api-key", key.Reveal());
        request.Headers.Add("anthropic-version", ApiVersion);
    }

    /// <summary>A Messages client's <c>anthropic-beta</c> and <c>anthropic-version</c> go on with its own body.</summary>
    protected override void AddHeaders(HttpRequestMessage request, UpstreamCall call) =>
        AddNativeHeaders(request, call, Orchestrator.Messages.Chat.Dialect.AnthropicMessages);

    public override Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        PostAsync(Messages, AnthropicRequest.Write(call.Request, call.UpstreamModel, call.MaxTokensDefault), call, cancellationToken);

    protected override async Task<UpstreamFailure> RefusalAsync(HttpResponseMessage response, CancellationToken ct) =>
        ContextLength(await base.RefusalAsync(response, ct));

    /// <summary>
    /// Anthropic says "prompt is too long: N tokens &gt; M maximum" as a plain invalid_request_error; named as OpenAI
    /// names it, the request can move on to a large-context route.
    /// </summary>
    private static UpstreamFailure ContextLength(UpstreamFailure failure) =>
        failure.IsCallerFault && failure.Message.StartsWith("prompt is too long", StringComparison.OrdinalIgnoreCase)
            ? failure with { Code = Routing.RetryPolicy.ContextLengthExceeded }
            : failure;

    /// <summary>The chat form for the engine; a Messages client's own request also gets the upstream's message as it came.</summary>
    protected override UpstreamResponse Completion(byte[] body, UpstreamCall call) =>
        new UpstreamCompletion(AnthropicCompletion.ToChatCompletion(body, call.UpstreamModel, outputTool: OutputTool(call)))
        {
            Native = IsNative(call) ? body : (ReadOnlyMemory<byte>?)null,
        };

    /// <summary>A Messages client's request answered by its own dialect: the upstream's events reach it as they came.</summary>
    protected override bool KeepsNative(UpstreamCall call) => IsNative(call);

    private static bool IsNative(UpstreamCall call) => IsNative(call, Orchestrator.Messages.Chat.Dialect.AnthropicMessages);

    protected override IStreamDecoder? Decoder(UpstreamCall call) => new ChatChunkDecoder(new AnthropicStreamDecoder(outputTool: OutputTool(call)));

    /// <summary>The tool a translated request's structured answer comes in (none for a Messages client's own body).</summary>
    private static string? OutputTool(UpstreamCall call) =>
        IsNative(call) ? null : AnthropicRequest.OutputTool(call.Request.Body, out _);
}
