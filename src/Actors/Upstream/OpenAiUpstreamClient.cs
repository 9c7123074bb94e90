using System.Net.Http.Headers;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// An OpenAI-compatible provider (<c>POST {base-url}/chat/completions</c>): the caller's body goes on with only
/// <c>model</c> and <c>stream</c> rewritten, and the answer's bytes come back as they are (the lean path).
/// </summary>
public sealed class OpenAiUpstreamClient(ProviderSettings settings) : HttpUpstreamClient(settings)
{
    private Uri Completions => field ??= new Uri(Root + "/chat/completions");

    protected override Uri ProbeUrl => field ??= new Uri(Root + "/models");

    protected override void Authorize(HttpRequestMessage request)
    {
        if (Settings.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Reveal());
    }

    public override Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        PostAsync(Completions, UpstreamRequestBody.Write(call.Request, call.UpstreamModel), call, cancellationToken);

    /// <summary>Checked to be one JSON object and passed on as it came.</summary>
    protected override UpstreamResponse Completion(byte[] body, UpstreamCall call) => new UpstreamCompletion(CompletionBody.Validate(body));

    protected override IStreamDecoder? Decoder(UpstreamCall call) => null;
}
