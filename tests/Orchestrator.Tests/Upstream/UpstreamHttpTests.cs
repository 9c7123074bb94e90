using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;

namespace Orchestrator.Tests.Upstream;

/// <summary><c>upstream.http-version</c> on the wire: a Kestrel server on loopback says which protocol each request came in on.</summary>
public sealed class UpstreamHttpTests
{
    private static readonly OrchestratorSettings Settings = TestSettings.From("""
        orchestrator.providers {
          h2   { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "none", upstream.http-version = 2 }
          h11  { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "none", upstream.http-version = 1.1 }
          auto { kind = openai, base-url = "http://127.0.0.1:1/v1", api-key = "none" }
        }
        orchestrator.models { m { routes = [ { provider = h2 }, { provider = h11 }, { provider = auto } ] } }
        """);

    [Theory]
    [InlineData("h2", HttpProtocols.Http2, "HTTP/2")]      // h2c with prior knowledge
    [InlineData("h11", HttpProtocols.Http1, "HTTP/1.1")]
    [InlineData("auto", HttpProtocols.Http1, "HTTP/1.1")]  // plain http: no ALPN, so HTTP/1.1
    public async Task HttpVersion_PerProvider_RequestArrivesOverThatProtocol(string provider, HttpProtocols protocols, string expected)
    {
        await using var server = await ProtocolServer.StartAsync(protocols);
        var sockets = new SocketCounter();
        using var client = UpstreamHttp.Create(Settings.Providers[provider], sockets.ConnectAsync);

        using var response = await PostAsync(client, server.Url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([expected], server.Protocols);
    }

    [Fact]
    public async Task Version2_ConcurrentRequests_ShareOneSocket()
    {
        const int Concurrent = 20;
        // Every request is held by the server until all have arrived, so they are provably in flight at once.
        await using var server = await ProtocolServer.StartAsync(HttpProtocols.Http2, holdUntil: Concurrent);
        var sockets = new SocketCounter();
        using var client = UpstreamHttp.Create(Settings.Providers["h2"], sockets.ConnectAsync);

        var responses = await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(_ => PostAsync(client, server.Url)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses) response.Dispose();
        Assert.Equal(Concurrent, server.Protocols.Count(p => p == "HTTP/2"));
        Assert.Equal(1, sockets.Opened);
    }

    [Fact]
    public async Task Version11_ConcurrentRequests_OpenOneSocketEach()
    {
        const int Concurrent = 5;
        await using var server = await ProtocolServer.StartAsync(HttpProtocols.Http1, holdUntil: Concurrent);
        var sockets = new SocketCounter();
        using var client = UpstreamHttp.Create(Settings.Providers["h11"], sockets.ConnectAsync);

        var responses = await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(_ => PostAsync(client, server.Url)));

        foreach (var response in responses) response.Dispose();
        Assert.Equal(Concurrent, sockets.Opened);
    }

    /// <summary>The request built the way the provider client builds it: its own message, sent with SendAsync.</summary>
    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, Uri url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent("""{"model":"m","messages":[]}"""u8.ToArray()),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    /// <summary>A plain TCP connect, counted.</summary>
    private sealed class SocketCounter
    {
        private int _opened;

        public int Opened => Volatile.Read(ref _opened);

        public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, ct);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            Interlocked.Increment(ref _opened);
            return new NetworkStream(socket, ownsSocket: true);
        }
    }

    /// <summary>Kestrel on 127.0.0.1 speaking only the given protocols (Http2 alone on cleartext is h2c with prior knowledge).</summary>
    private sealed class ProtocolServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly int _holdUntil;
        private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        private ProtocolServer(WebApplication app, int holdUntil)
        {
            _app = app;
            _holdUntil = holdUntil;
        }

        public ConcurrentQueue<string> Protocols { get; } = new();

        public Uri Url { get; private set; } = null!;

        public static async Task<ProtocolServer> StartAsync(HttpProtocols protocols, int holdUntil = 1)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = protocols));
            var app = builder.Build();
            var server = new ProtocolServer(app, holdUntil);
            app.MapPost("/v1/chat/completions", server.HandleAsync);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.Url = new Uri(address + "/v1/chat/completions");
            return server;
        }

        private async Task HandleAsync(HttpContext http)
        {
            Protocols.Enqueue(http.Request.Protocol);
            if (Interlocked.Increment(ref _arrived) >= _holdUntil) _allArrived.TrySetResult();
            await _allArrived.Task.WaitAsync(TimeSpan.FromSeconds(10), http.RequestAborted);
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("{}"), http.RequestAborted);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
