using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>A real <see cref="ClientWebSocket"/> on the relay's <c>/v1/realtime</c>, reading events as JSON.</summary>
public sealed class TestSocket : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[1 << 20];

    private TestSocket(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<TestSocket> ConnectAsync(Uri relay, string query = "", string? bearer = RelayFixture.ClientKey, params string[] protocols)
    {
        var socket = new ClientWebSocket();
        if (bearer is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        foreach (var protocol in protocols) socket.Options.AddSubProtocol(protocol);
        var uri = new UriBuilder(relay) { Scheme = "ws", Path = "/v1/realtime", Query = query }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(uri, timeout.Token);
        return new TestSocket(socket);
    }

    public Task SendAsync(string json) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next event, or null when the server closed the socket.</summary>
    public async Task<JsonElement?> ReceiveAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await Socket.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            count += result.Count;
        } while (!result.EndOfMessage);
        using var doc = JsonDocument.Parse(_buffer.AsMemory(0, count));
        return doc.RootElement.Clone();
    }

    /// <summary>Reads until every id in <paramref name="ids"/> has its done or error event; returns each id's events.</summary>
    public async Task<Dictionary<string, List<JsonElement>>> ReadUntilDoneAsync(IEnumerable<string> ids, TimeSpan? within = null)
    {
        var waiting = new HashSet<string>(ids);
        var events = waiting.ToDictionary(id => id, _ => new List<JsonElement>());
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (waiting.Count > 0)
        {
            var next = await ReceiveAsync(deadline - DateTime.UtcNow) ?? throw new Xunit.Sdk.XunitException("the socket closed early");
            var id = next.GetProperty("id").GetString()!;
            if (!events.TryGetValue(id, out var list)) continue;
            list.Add(next);
            var type = next.GetProperty("type").GetString();
            if (type is "chat.completions.done" or "error") waiting.Remove(id);
        }
        return events;
    }

    public static string Text(IEnumerable<JsonElement> events) => string.Concat(events
        .Where(e => e.GetProperty("type").GetString() == "chat.completions.chunk" && e.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out _))
        .Select(e => e.GetProperty("delta").GetProperty("content").GetString()));

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception)
            {
                // already gone
            }
        }
        Socket.Dispose();
    }
}

