using System.Net;
using Orchestrator.Actors.Settings;

namespace Orchestrator.Actors.Upstream;

/// <summary>
/// The <see cref="HttpClient"/> over one pooled <see cref="SocketsHttpHandler"/> that an HTTP provider's
/// connection uses, built from its <c>upstream</c> settings. <c>http-version</c> picks the protocol: with 2, every
/// stream to a server multiplexes over a few sockets (a new one only when the server's stream limit is reached).
/// The version is stamped on every request: <see cref="HttpClient.DefaultRequestVersion"/> only reaches requests the
/// client builds itself (GetAsync, PostAsync), while a message sent with SendAsync keeps its own default, HTTP/1.1.
/// </summary>
public static class UpstreamHttp
{
    /// <summary>The client with a plain TCP connect, each socket counted in <paramref name="meters"/> while it is open (for the provider's status).</summary>
    public static HttpClient Create(ProviderSettings settings, UpstreamMeters meters) =>
        Create(settings, (context, ct) => CountedConnectAsync(context, meters, ct));

    private static async ValueTask<Stream> CountedConnectAsync(SocketsHttpConnectionContext context, UpstreamMeters meters, CancellationToken ct)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        meters.ConnectionOpened();
        return new CountedStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true), meters);
    }

    /// <param name="connect">Opens the socket (the caller counts it for the provider's status).</param>
    public static HttpClient Create(ProviderSettings settings, Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> connect)
    {
        var upstream = settings.Upstream;
        var handler = new SocketsHttpHandler
        {
            // The connection actor rotates the whole pool at max-lifetime; this bounds any single socket the same way.
            PooledConnectionLifetime = upstream.MaxLifetime,
            // Close idle sockets before the provider or a load balancer does, so we never write into a dead one.
            PooledConnectionIdleTimeout = upstream.PoolIdleTimeout,
            // A cancelled stream closes its socket at once instead of reading on (for nobody) to reuse it.
            MaxResponseDrainSize = 0,
            ConnectTimeout = upstream.ConnectTimeout,
            ConnectCallback = connect,
            // HTTP/2: a PING every heartbeat-interval while requests are open; no answer within the same time and
            // the connection is torn down, failing its streams instead of leaving them hanging.
            KeepAlivePingDelay = upstream.HeartbeatInterval,
            KeepAlivePingTimeout = upstream.HeartbeatInterval,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
            MaxConnectionsPerServer = upstream.MaxConnectionsPerServer,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        var (version, policy) = upstream.HttpVersion switch
        {
            UpstreamHttpVersion.Auto => (HttpVersion.Version20, HttpVersionPolicy.RequestVersionOrLower),
            UpstreamHttpVersion.Http11 => (HttpVersion.Version11, HttpVersionPolicy.RequestVersionExact),
            // Exact: on https only h2 is offered in ALPN; on http:// the client opens with the HTTP/2 preface (h2c with
            // prior knowledge, RFC 9113 section 3.3; the Upgrade: h2c route is deprecated and SocketsHttpHandler lacks it).
            UpstreamHttpVersion.Http2 => (HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), upstream.HttpVersion, "unknown http-version"),
        };
        return new HttpClient(new VersionHandler(handler, version, policy), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,   // our own timers decide (first-byte, idle)
            DefaultRequestVersion = version,
            DefaultVersionPolicy = policy,
        };
    }

    /// <summary>Sets the provider's HTTP version on each request, whoever built it.</summary>
    private sealed class VersionHandler(HttpMessageHandler inner, Version version, HttpVersionPolicy policy) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = version;
            request.VersionPolicy = policy;
            return base.SendAsync(request, cancellationToken);
        }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = version;
            request.VersionPolicy = policy;
            return base.Send(request, cancellationToken);
        }
    }
}
