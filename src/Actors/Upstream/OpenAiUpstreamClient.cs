using System.Net.Http.Headers;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// An OpenAI-compatible provider over one pooled <see cref="SocketsHttpHandler"/>. Response bodies are read as
/// streams at the consumer's pace, never buffered whole (non-streamed answers excepted, under a cap).
/// </summary>
public sealed class OpenAiUpstreamClient : IUpstreamClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private readonly ProviderSettings _settings;
    private readonly HttpClient _http;
    private readonly Uri _completions;
    private readonly Uri _models;

    public UpstreamMeters Meters { get; } = new();

    public OpenAiUpstreamClient(ProviderSettings settings)
    {
        _settings = settings;
        _http = UpstreamHttp.Create(settings, Meters);
        var root = settings.BaseUrl!.ToString().TrimEnd('/');
        _completions = new Uri(root + "/chat/completions");
        _models = new Uri(root + "/models");
    }

    public async Task ProbeAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, _models);
        request.Headers.Accept.Add(Json);
        if (_settings.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Reveal());
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET /models answered HTTP {(int)response.StatusCode}", null, response.StatusCode);
    }

    public async Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _completions)
        {
            Content = new ByteArrayContent(UpstreamRequestBody.Write(call.Request, call.UpstreamModel)),
        };
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.Accept.Add(call.Request.Stream ? EventStream : Json);
        if (_settings.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Reveal());

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                var failure = await FailureClassifier.FromResponseAsync(response, _settings.ApiKey, cancellationToken);
                response.Dispose();
                return new UpstreamRefusal(failure);
            }
            if (!call.Request.Stream) return await ReadCompletionAsync(response, cancellationToken);

            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new UpstreamStream(StreamedBody.FromStream(body, response, Meters.ReadBuffers));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The whole answer (under max-response-bytes), checked to be one JSON object and passed on as it came.</summary>
    private async Task<UpstreamResponse> ReadCompletionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
        {
            await response.Content.LoadIntoBufferAsync(_settings.Upstream.MaxResponseBytes, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            return new UpstreamCompletion(CompletionBody.Validate(body));
        }
    }

    public void Dispose() => _http.Dispose();
}
