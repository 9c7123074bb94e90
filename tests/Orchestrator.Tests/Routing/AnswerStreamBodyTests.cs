using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text;
using Orchestrator.Actors.Routing;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Upstream;

namespace Orchestrator.Tests.Routing;

/// <summary>
/// The answer stream over a real HTTP response body on loopback: it reads only on demand, and while it waits for
/// the upstream's next bytes it holds no read buffer (zero-byte reads).
/// </summary>
public sealed class AnswerStreamBodyTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private WebApplication _server = null!;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        // One event, then silence until the test says so (a model thinking), then one more and the end.
        (_server, _url) = await LoopbackApp.StartAsync(app => app.MapGet("/", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("""data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""" + "\n\n");
            await http.Response.Body.FlushAsync();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await http.Response.WriteAsync("""data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}""" + "\n\n");
        }));
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _server.DisposeAsync();
    }

    private static readonly SegmentLimits Limits = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), IncludeUsage: false, SingleChoice: true);

    private async Task<(TestSubscriber.ManualProbe<AnswerBlock> Probe, ReadBufferGauge Gauge, CountingStream Body)> StartAsync(HttpClient http)
    {
        var response = await http.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead);
        var gauge = new ReadBufferGauge();
        var body = new CountingStream(await response.Content.ReadAsStreamAsync());
        var probe = this.CreateManualSubscriberProbe<AnswerBlock>();
        AnswerStream.Source(StreamedBody.FromStream(body, response, gauge), new Transcript(), Limits, null, TimeSpan.FromSeconds(5))
            .RunWith(Sink.FromSubscriber(probe), Sys.Materializer());
        return (probe, gauge, body);
    }

    [Fact]
    public async Task Answer_WaitingOnTheUpstream_HoldsNoReadBuffer()
    {
        using var http = new HttpClient();
        var (probe, gauge, _) = await StartAsync(http);
        var subscription = await probe.ExpectSubscriptionAsync();

        subscription.Request(1);
        Assert.Contains("assistant", Encoding.UTF8.GetString((await probe.ExpectNextAsync()).Sse.Span));
        subscription.Request(1);   // the next read waits on the upstream (a model thinking)
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, gauge.Held);

        _release.SetResult();
        Assert.Contains("\"stop\"", Encoding.UTF8.GetString((await probe.ExpectNextAsync()).Sse.Span));
        await probe.ExpectCompleteAsync();
        Assert.Equal(0, gauge.Held);
    }

    [Fact]
    public async Task Answer_NoDemand_ReadsNothing()
    {
        using var http = new HttpClient();
        var (probe, gauge, body) = await StartAsync(http);
        var subscription = await probe.ExpectSubscriptionAsync();

        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));   // bytes are there, nobody asked
        Assert.Equal(0, body.Reads);
        subscription.Request(1);
        await probe.ExpectNextAsync();
        Assert.True(body.Reads > 0);
        subscription.Cancel();
        Assert.Equal(0, gauge.Held);
    }

    /// <summary>The response body, counting the reads made on it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
