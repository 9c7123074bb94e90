using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Tests.Streams;

/// <summary>
/// The upstream body source over a real HTTP response on loopback: it reads only on demand, and while it waits for
/// the upstream's next bytes it holds no read buffer (zero-byte reads).
/// </summary>
public sealed class UpstreamBodyTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private WebApplication _server = null!;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        // One event, then silence until the test says so (a model thinking), then one more and the end.
        _server.MapGet("/", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("data: one\n\n");
            await http.Response.Body.FlushAsync();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await http.Response.WriteAsync("data: two\n\n");
        });
        await _server.StartAsync();
        _url = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Body_WaitingOnTheUpstream_HoldsNoReadBuffer()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead);
        var gauge = new ReadBufferGauge();
        var probe = UpstreamBody.Source(await response.Content.ReadAsStreamAsync(), response, gauge)
            .RunWith(this.SinkProbe<ByteString>(), Sys.Materializer());

        probe.Request(1);
        Assert.Equal("data: one\n\n", (await probe.ExpectNextAsync()).ToString());
        probe.Request(1);   // the next read waits on the upstream
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, gauge.Held);

        _release.SetResult();
        Assert.Equal("data: two\n\n", (await probe.ExpectNextAsync()).ToString());
        probe.Request(1);
        await probe.ExpectCompleteAsync();
        Assert.Equal(0, gauge.Held);
    }

    [Fact]
    public async Task Body_NoDemand_ReadsNothing()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead);
        var gauge = new ReadBufferGauge();
        var probe = UpstreamBody.Source(await response.Content.ReadAsStreamAsync(), response, gauge)
            .RunWith(this.SinkProbe<ByteString>(), Sys.Materializer());

        await probe.ExpectSubscriptionAsync();
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));   // bytes are there, nobody asked
        Assert.Equal(0, gauge.Held);
        probe.Request(1);
        Assert.Equal("data: one\n\n", (await probe.ExpectNextAsync()).ToString());
        probe.Cancel();
    }
}
