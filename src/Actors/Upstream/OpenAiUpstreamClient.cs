using System.Net.Http.Headers;
using Orchestrator.Actors.Dialects;
using Orchestrator.Actors.Dialects.Responses;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// An OpenAI-compatible provider (<c>POST {base-url}/chat/completions</c>): the caller's body goes on with only
/// <c>model</c> and <c>stream</c> rewritten, and the answer's bytes come back as they are (the lean path).
/// With <c>responses = on</c>, a request from the Responses front goes to <c>POST {base-url}/responses</c> as the
/// client wrote it (<see cref="ResponsesUpstream"/>, with its <c>OpenAI-Beta</c> header); its events are decoded
/// for the engine (<see cref="ResponsesStreamDecoder"/>) and travel on as they came for the front to write.
/// </summary>
public sealed class OpenAiUpstreamClient(ProviderSettings settings) : HttpUpstreamClient(settings)
{
    private Uri Completions => field ??= new Uri(Root + "/chat/completions");

    private Uri Responses => field ??= new Uri(Root + "/responses");

    protected override Uri ProbeUrl => field ??= new Uri(Root + "/models");

    protected override void Authorize(HttpRequestMessage request)
    {
        if (Settings.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Reveal());
    }

    // Set once the provider has shown it serves no /responses (an OpenAI-compatible server that speaks chat alone).
    private volatile bool _noResponsesEndpoint;

    public override async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        if (_noResponsesEndpoint) call = call with { AsChat = true };
        if (Native(call) is not { } native) return await PostAsync(Completions, UpstreamRequestBody.Write(call.Request, call.UpstreamModel), call, cancellationToken);
        var answer = await PostAsync(Responses, ResponsesUpstream.Write(native, call.UpstreamModel, call.Request.Stream), call, cancellationToken);
        if (answer is not UpstreamRefusal { Failure: { Status: 404 or 405, Code: not "model_not_found" } }) return answer;
        // No such endpoint (not "no such model"): this provider speaks chat completions only; the request goes there
        // translated, now and from now on, as for a provider with responses = off.
        _noResponsesEndpoint = true;
        return await SendAsync(call with { AsChat = true }, cancellationToken);
    }

    /// <summary>A Responses client's <c>OpenAI-Beta</c> goes on with its own body (never to chat completions).</summary>
    protected override void AddHeaders(HttpRequestMessage request, UpstreamCall call)
    {
        if (Native(call) is not null) AddNativeHeaders(request, call, Dialect.OpenAiResponses);
    }

    /// <summary>The client's Responses request, when this provider takes it as it came (this call, decided once).</summary>
    private NativeRequest? Native(UpstreamCall call) =>
        Settings.Responses && !call.AsChat && call.Request.Native is { Dialect: Dialect.OpenAiResponses } native ? native : null;

    /// <summary>Checked to be one JSON object and passed on as it came (a Responses object also read into chat form for the engine).</summary>
    protected override UpstreamResponse Completion(byte[] body, UpstreamCall call)
    {
        CompletionBody.Validate(body);
        if (Native(call) is null) return new UpstreamCompletion(body);
        try
        {
            return new UpstreamCompletion(ResponsesUpstream.ToChatCompletion(body, call.UpstreamModel)) { Native = body };
        }
        catch (InvalidOperationException)
        {
            throw new UpstreamProtocolException("the upstream's response object could not be read");   // a string that is not UTF-8
        }
    }

    protected override IStreamDecoder? Decoder(UpstreamCall call) => Native(call) is null ? null : new ChatChunkDecoder(new ResponsesStreamDecoder());

    protected override bool KeepsNative(UpstreamCall call) => Native(call) is not null;
}
