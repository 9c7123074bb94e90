using System.Net.Http.Headers;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// What every HTTP provider kind shares: one pooled <see cref="SocketsHttpHandler"/> (<see cref="UpstreamHttp"/>),
/// the health probe (<c>GET</c> of its model list), and one request: the body POSTed, the response headers awaited,
/// then a refusal classified, a whole answer read under <c>max-response-bytes</c>, or the body handed on as a stream
/// that the answer stage reads at the consumer's pace (decoded on the way when the kind speaks another dialect).
/// A kind says only its URLs, its auth headers and how its dialect reads.
/// </summary>
public abstract class HttpUpstreamClient : IUpstreamClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private readonly HttpClient _http;

    protected HttpUpstreamClient(ProviderSettings settings)
    {
        Settings = settings;
        Meters = new UpstreamMeters(settings.Name);
        _http = UpstreamHttp.Create(settings, Meters);
        Root = settings.BaseUrl!.ToString().TrimEnd('/');
    }

    protected ProviderSettings Settings { get; }

    /// <summary>The base URL without its trailing slash.</summary>
    protected string Root { get; }

    public UpstreamMeters Meters { get; }

    /// <summary>What the health check GETs.</summary>
    protected abstract Uri ProbeUrl { get; }

    /// <summary>Adds the provider's key (and any version header) to a request.</summary>
    protected abstract void Authorize(HttpRequestMessage request);

    public async Task ProbeAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, ProbeUrl);
        request.Headers.Accept.Add(Json);
        Authorize(request);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET /models answered HTTP {(int)response.StatusCode}", null, response.StatusCode);
    }

    public abstract Task<UpstreamResponse> SendAsync(UpstreamCall call, CancellationToken cancellationToken);

    /// <summary>Headers of this call beyond the key (a native request's own dialect headers); none by default.</summary>
    protected virtual void AddHeaders(HttpRequestMessage request, UpstreamCall call)
    {
    }

    /// <summary>The client's own dialect headers, when the call sends its native body on (each replaces the kind's default).</summary>
    protected static void AddNativeHeaders(HttpRequestMessage request, UpstreamCall call, Orchestrator.Messages.Chat.Dialect dialect)
    {
        if (!IsNative(call, dialect)) return;
        foreach (var (name, value) in call.Request.Native!.Headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>Whether the call carries the client's own request in <paramref name="dialect"/> (the kind's own).</summary>
    protected static bool IsNative(UpstreamCall call, Orchestrator.Messages.Chat.Dialect dialect) => call.Request.Native?.Dialect == dialect;

    /// <summary>The provider's refusal, classified (OpenAI's error shape by default).</summary>
    protected virtual Task<UpstreamFailure> RefusalAsync(HttpResponseMessage response, CancellationToken ct) =>
        FailureClassifier.FromResponseAsync(response, Settings.ApiKey, ct);

    /// <summary>A whole answer's body as the engine's <c>chat.completion</c> (or the refusal it turns out to be).</summary>
    protected abstract UpstreamResponse Completion(byte[] body, UpstreamCall call);

    /// <summary>The decoder a streamed answer of this kind needs; null for chat chunks, passed through as they are.</summary>
    protected abstract IStreamDecoder? Decoder(UpstreamCall call);

    /// <summary>Whether this call's streamed events also travel as they came (a native request answered in the client's dialect).</summary>
    protected virtual bool KeepsNative(UpstreamCall call) => false;

    /// <summary>POSTs <paramref name="body"/> to <paramref name="url"/> and reads the response as the request asked.</summary>
    protected async Task<UpstreamResponse> PostAsync(Uri url, byte[] body, UpstreamCall call, CancellationToken cancellationToken)
    {
        var stream = call.Request.Stream;
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.Accept.Add(stream ? EventStream : Json);
        Authorize(request);
        AddHeaders(request, call);

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                var failure = await RefusalAsync(response, cancellationToken);
                response.Dispose();
                return new UpstreamRefusal(failure);
            }
            if (!stream)
            {
                using (response)
                {
                    await response.Content.LoadIntoBufferAsync(Settings.Upstream.MaxResponseBytes, cancellationToken);
                    return Completion(await response.Content.ReadAsByteArrayAsync(cancellationToken), call);
                }
            }
            var content = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new UpstreamStream(StreamedBody.FromStream(content, response, Meters.ReadBuffers) with { Decoder = Decoder(call), KeepsNative = KeepsNative(call) });
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        GC.SuppressFinalize(this);
    }
}
