using System.Net.Http.Headers;
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
public sealed class AnthropicUpstreamClient : IUpstreamClient
{
    /// <summary>The API version this translation is written against (Anthropic's versioning page).</summary>
    public const string ApiVersion = "2023-06-01";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private readonly ProviderSettings _settings;
    private readonly HttpClient _http;
    private readonly Uri _messages;
    private readonly Uri _models;

    public UpstreamMeters Meters { get; } = new();

    public AnthropicUpstreamClient(ProviderSettings settings)
    {
        _settings = settings;
        _http = UpstreamHttp.Create(settings, Meters);
        var root = settings.BaseUrl!.ToString().TrimEnd('/');
        _messages = new Uri(root + "/messages");
        _models = new Uri(root + "/models");
    }

    public async Task ProbeAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, _models);
        request.Headers.Accept.Add(Json);
        Authorize(request);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET /models answered HTTP {(int)response.StatusCode}", null, response.StatusCode);
    }

    public async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _messages)
        {
            Content = new ByteArrayContent(AnthropicRequest.Write(call.Request, call.UpstreamModel, call.MaxTokensDefault)),
        };
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.Accept.Add(call.Request.Stream ? EventStream : Json);
        Authorize(request);

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                var failure = await FailureClassifier.FromResponseAsync(response, _settings.ApiKey, cancellationToken);
                response.Dispose();
                return new UpstreamRefusal(ContextLength(failure));
            }
            if (!call.Request.Stream) return await ReadMessageAsync(response, call.UpstreamModel, cancellationToken);

            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new UpstreamStream(StreamedBody.FromStream(body, response, Meters.ReadBuffers) with
            {
                Decoder = new ChatChunkDecoder(new AnthropicStreamDecoder()),
            });
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Anthropic says "prompt is too long: N tokens &gt; M maximum" as a plain invalid_request_error; named as OpenAI
    /// names it, the request can move on to a large-context route.
    /// </summary>
    private static UpstreamFailure ContextLength(UpstreamFailure failure) =>
        failure.IsCallerFault && failure.Message.StartsWith("prompt is too long", StringComparison.OrdinalIgnoreCase)
            ? failure with { Code = Routing.RetryPolicy.ContextLengthExceeded }
            : failure;

    private void Authorize(HttpRequestMessage request)
    {
        if (_settings.ApiKey is { } key) request.Headers.Add("x-api-key", key.Reveal());
        request.Headers.Add("anthropic-version", ApiVersion);
    }

    /// <summary>The whole message (under max-response-bytes) as a chat completion.</summary>
    private async Task<UpstreamResponse> ReadMessageAsync(HttpResponseMessage response, string model, CancellationToken ct)
    {
        using (response)
        {
            await response.Content.LoadIntoBufferAsync(_settings.Upstream.MaxResponseBytes, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            return new UpstreamCompletion(AnthropicCompletion.ToChatCompletion(body, model));
        }
    }

    public void Dispose() => _http.Dispose();
}
