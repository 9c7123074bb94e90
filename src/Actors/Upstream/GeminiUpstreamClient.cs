using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Gemini;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// A Google Gemini provider (<c>POST {base-url}/models/{model}:streamGenerateContent?alt=sse</c>, or
/// <c>:generateContent</c> for a whole answer) over one pooled <see cref="SocketsHttpHandler"/>. The request is
/// translated (<see cref="GeminiRequest"/>); a streamed answer is read at the consumer's pace and decoded response by
/// response into chat chunks (<see cref="GeminiStreamDecoder"/>), a whole one converted once (<see cref="GeminiCompletion"/>).
/// The key goes in <c>x-goog-api-key</c>, never in the URL's <c>key=</c> (URLs get logged). Errors are Google's RPC
/// status, classified by <see cref="GeminiErrors"/>.
/// </summary>
public sealed class GeminiUpstreamClient(ProviderSettings settings) : HttpUpstreamClient(settings)
{
    private const string KeyHeader = "x-goog-api-key";

    // The list is long and paginated; one entry proves the key and the endpoint as well as all of them.
    protected override Uri ProbeUrl => field ??= new Uri(Root + "/models?pageSize=1");

    protected override void Authorize(HttpRequestMessage request)
    {
        if (Settings.ApiKey is { } key) request.Headers.Add(KeyHeader, key.Reveal());
    }

    public override Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            body = GeminiRequest.Write(call.Request);
        }
        catch (GeminiRequestException ex)
        {
            // What the chat body says and Gemini cannot take: any Gemini route would refuse it the same way.
            return Task.FromResult<UpstreamResponse>(new UpstreamRefusal(new UpstreamFailure(FailureKind.CallerFault, 400, ex.Message, null, ex.Param)));
        }
        return PostAsync(Endpoint(call.UpstreamModel, call.Request.Stream), body, call, cancellationToken);
    }

    /// <summary>The model travels in the path (a "models/" prefix, as Gemini lists them, is taken either way).</summary>
    private Uri Endpoint(string model, bool stream)
    {
        var name = model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;
        return new Uri($"{Root}/models/{Uri.EscapeDataString(name)}{(stream ? ":streamGenerateContent?alt=sse" : ":generateContent")}");
    }

    protected override Task<UpstreamFailure> RefusalAsync(HttpResponseMessage response, CancellationToken ct) =>
        GeminiErrors.FromResponseAsync(response, Settings.ApiKey, ct);

    /// <summary>The whole answer as a chat completion, or the refusal a safety block is.</summary>
    protected override UpstreamResponse Completion(byte[] body, UpstreamCall call)
    {
        var read = GeminiCompletion.Read(body, call.UpstreamModel);
        return read is UpstreamCompletion completion && IsNative(call) ? completion with { Native = body } : read;
    }

    /// <summary>A Gemini client's request answered by its own dialect: the upstream's responses reach it as they came.</summary>
    protected override bool KeepsNative(UpstreamCall call) => IsNative(call);

    private static bool IsNative(UpstreamCall call) => IsNative(call, Orchestrator.Messages.Chat.Dialect.Gemini);

    protected override IStreamDecoder? Decoder(UpstreamCall call) => new ChatChunkDecoder(new GeminiStreamDecoder(call.UpstreamModel, call.Request.Choices));
}
