using System.Net.Http.Headers;
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
public sealed class GeminiUpstreamClient : IUpstreamClient
{
    private const string KeyHeader = "x-goog-api-key";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private readonly ProviderSettings _settings;
    private readonly HttpClient _http;
    private readonly string _root;
    private readonly Uri _models;

    public UpstreamMeters Meters { get; } = new();

    public GeminiUpstreamClient(ProviderSettings settings)
    {
        _settings = settings;
        _http = UpstreamHttp.Create(settings, Meters);
        _root = settings.BaseUrl!.ToString().TrimEnd('/');
        // The list is long and paginated; one entry proves the key and the endpoint as well as all of them.
        _models = new Uri(_root + "/models?pageSize=1");
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
        byte[] body;
        try
        {
            body = GeminiRequest.Write(call.Request);
        }
        catch (GeminiRequestException ex)
        {
            // What the chat body says and Gemini cannot take: any Gemini route would refuse it the same way.
            return new UpstreamRefusal(new UpstreamFailure(FailureKind.CallerFault, 400, ex.Message, null, ex.Param));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint(call.UpstreamModel, call.Request.Stream))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.Accept.Add(call.Request.Stream ? EventStream : Json);
        Authorize(request);

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                var failure = await GeminiErrors.FromResponseAsync(response, _settings.ApiKey, cancellationToken);
                response.Dispose();
                return new UpstreamRefusal(failure);
            }
            if (!call.Request.Stream) return await ReadCompletionAsync(response, call.UpstreamModel, cancellationToken);

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new UpstreamStream(StreamedBody.FromStream(stream, response, Meters.ReadBuffers) with
            {
                Decoder = new ChatChunkDecoder(new GeminiStreamDecoder(call.UpstreamModel, call.Request.Choices)),
            });
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The model travels in the path (a "models/" prefix, as Gemini lists them, is taken either way).</summary>
    private Uri Endpoint(string model, bool stream)
    {
        var name = model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;
        return new Uri($"{_root}/models/{Uri.EscapeDataString(name)}{(stream ? ":streamGenerateContent?alt=sse" : ":generateContent")}");
    }

    private void Authorize(HttpRequestMessage request)
    {
        if (_settings.ApiKey is { } key) request.Headers.Add(KeyHeader, key.Reveal());
    }

    /// <summary>The whole answer (under max-response-bytes) as a chat completion, or the refusal a safety block is.</summary>
    private async Task<UpstreamResponse> ReadCompletionAsync(HttpResponseMessage response, string model, CancellationToken ct)
    {
        using (response)
        {
            await response.Content.LoadIntoBufferAsync(_settings.Upstream.MaxResponseBytes, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            return GeminiCompletion.Read(body, model);
        }
    }

    public void Dispose() => _http.Dispose();
}
