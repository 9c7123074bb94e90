using System.Net;

namespace Orchestrator.Bench;

/// <summary>
/// The HTTP client every bench tool drives a server with: one connection per request in flight, HTTP/1.1 only, no
/// proxy, cookies, redirects, decompression or trace headers, no client-side timeout (the tools bound their own waits).
/// </summary>
public static class LoadClient
{
    public static HttpClient Create(TimeSpan pooledConnectionIdleTimeout) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = pooledConnectionIdleTimeout,
        ActivityHeadersPropagator = null,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
