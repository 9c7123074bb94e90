using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Orchestrator.Actors.Routing;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Actors.Realtime;

/// <summary>
/// A .NET client for <c>/v1/realtime</c>: many concurrent streams over one socket.
/// <code>await foreach (var chunk in client.StreamAsync(requestJson, ct)) ...</code>
/// It connects on first use and reconnects with exponential backoff and jitter; WebSocket ping/pong keeps the
/// socket honest (<see cref="RealtimeClientOptions.HeartbeatTimeout"/> without a pong and it is dropped). On
/// <c>session.expiring</c>, new requests go to a fresh socket while the old one finishes its answers. When a socket
/// dies, requests that had received nothing yet are sent again on the next one; requests already streaming fail
/// with <see cref="IOException"/> (a relay in front can resume them). Thread-safe. Also the transport of the
/// <c>websocket</c> provider kind.
/// </summary>
public sealed class RealtimeClient(Uri endpoint, string? apiKey, RealtimeClientOptions? options = null) : IAsyncDisposable
{
    private readonly RealtimeClientOptions _options = options ?? new RealtimeClientOptions();
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private Session? _current;
    private long _ids;

    /// <summary>Raised (on the socket's read loop) when the server announces that the current socket is expiring.</summary>
    public event Action? SessionExpiring;

    /// <summary>Streams one chat request (a chat completions body as JSON: model, messages, ...). A usage chunk ends it when the server reported usage.</summary>
    public async IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ReadOnlyMemory<byte> requestBody, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var id = $"c{Interlocked.Increment(ref _ids)}";
        var frame = CreateFrame(id, requestBody);
        for (var attempt = 0; ; attempt++)
        {
            var session = await SessionAsync(ct);
            var request = session.Register(id);
            try
            {
                await session.SendAsync(frame, ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested && attempt < _options.MaxReconnects)
            {
                session.Unregister(id);
                continue;   // the socket died under the send: nothing reached the server, so send again
            }

            var retry = false;
            var ended = false;
            try
            {
                while (true)
                {
                    JsonElement message;
                    try
                    {
                        message = await request.Reader.ReadAsync(ct);
                    }
                    catch (ChannelClosedException) when (!request.Started && attempt < _options.MaxReconnects)
                    {
                        retry = true;   // the socket died before the server said anything about this request
                        ended = true;
                        break;
                    }
                    catch (ChannelClosedException)
                    {
                        ended = true;
                        throw new IOException("the realtime socket closed in the middle of the answer");
                    }
                    var type = message.GetProperty("type").GetString();
                    if (type == "chat.completions.chunk")
                    {
                        yield return message.GetProperty("chunk").Deserialize(WireJson.Default.ChatCompletionChunk)!;
                        continue;
                    }
                    ended = true;
                    if (type == "error") throw new RealtimeException(ErrorOf(message.GetProperty("error")));
                    if (type == "chat.completions.done")
                    {
                        if (message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                            yield return new ChatCompletionChunk { Id = id, Choices = [], Usage = usage.Deserialize(WireJson.Default.Usage) };
                        yield break;
                    }
                }
            }
            finally
            {
                session.Unregister(id);
                // Left early (the caller stopped reading or cancelled): the server stops the request, upstream included.
                if (!ended) _ = session.CancelAsync(id);
            }
            if (!retry) yield break;
        }
    }

    private static ApiError ErrorOf(JsonElement error)
    {
        string? Text(string name) => error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var status = error.TryGetProperty("status", out var s) && s.TryGetInt32(out var n) ? n : 502;
        return new ApiError(status, Text("message") ?? "error", Text("type") ?? "api_error", Text("param"), Text("code"));
    }

    private static byte[] CreateFrame(string id, ReadOnlyMemory<byte> body)
    {
        using var doc = JsonDocument.Parse(body);
        var buffer = new ArrayBufferWriter<byte>(body.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "chat.completions.create");
            writer.WriteString("id"u8, id);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.NameEquals("type"u8) || property.NameEquals("id"u8)) continue;
                property.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The socket new requests go to: the current one while it is open and not expiring, else a new one (with backoff).</summary>
    private async Task<Session> SessionAsync(CancellationToken ct)
    {
        if (_current is { Usable: true } current) return current;
        await _connecting.WaitAsync(ct);
        try
        {
            if (_current is { Usable: true } again) return again;
            var random = new Random();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    _current = await Session.ConnectAsync(endpoint, apiKey, _options, () => SessionExpiring?.Invoke(), _closing.Token, ct);
                    return _current;
                }
                catch (Exception) when (attempt < _options.MaxReconnects && !ct.IsCancellationRequested)
                {
                    await Task.Delay(RetryDelays.Next(attempt, _options.ReconnectBaseDelay, _options.ReconnectMaxDelay, random), ct);
                }
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        if (_current is { } session) await session.CloseAsync();
    }

    /// <summary>One socket: a read loop routing events to their requests by id.</summary>
    private sealed class Session
    {
        private readonly ClientWebSocket _socket;
        private readonly SemaphoreSlim _sending = new(1, 1);
        private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
        private volatile bool _expiring;

        private readonly Action _onExpiring;
        private readonly int _maxMessageBytes;

        private Session(ClientWebSocket socket, Action onExpiring, int maxMessageBytes)
        {
            _socket = socket;
            _onExpiring = onExpiring;
            _maxMessageBytes = maxMessageBytes;
        }

        public bool Usable => !_expiring && _socket.State == WebSocketState.Open;

        public static async Task<Session> ConnectAsync(Uri endpoint, string? apiKey, RealtimeClientOptions options, Action onExpiring, CancellationToken closing, CancellationToken ct)
        {
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = options.HeartbeatInterval;
            socket.Options.KeepAliveTimeout = options.HeartbeatTimeout;
            socket.Options.AddSubProtocol("orchestrator.v1");
            if (apiKey is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + apiKey);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(endpoint, timeout.Token);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            var session = new Session(socket, onExpiring, options.MaxMessageBytes);
            _ = session.ReadLoopAsync(closing);
            return session;
        }

        public Pending Register(string id)
        {
            var pending = new Pending();
            lock (_pending) _pending[id] = pending;
            return pending;
        }

        public void Unregister(string id)
        {
            lock (_pending) _pending.Remove(id);
        }

        public async Task SendAsync(byte[] frame, CancellationToken ct)
        {
            await _sending.WaitAsync(ct);
            try
            {
                await _socket.SendAsync(frame, WebSocketMessageType.Text, true, ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // A send that fails means the socket is gone, whatever its state says: the next request reconnects.
                _expiring = true;
                _socket.Abort();
                throw;
            }
            finally
            {
                _sending.Release();
            }
        }

        public async Task CancelAsync(string id)
        {
            try
            {
                await SendAsync(System.Text.Encoding.UTF8.GetBytes($$"""{"type":"chat.completions.cancel","id":"{{id}}"}"""), CancellationToken.None);
            }
            catch (Exception)
            {
                // The socket is gone: the request went with it.
            }
        }

        private async Task ReadLoopAsync(CancellationToken closing)
        {
            var buffer = new ArrayBufferWriter<byte>(16 * 1024);
            try
            {
                while (_socket.State == WebSocketState.Open)
                {
                    buffer.ResetWrittenCount();
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.GetMemory(8 * 1024), closing);
                        if (result.MessageType == WebSocketMessageType.Close) return;
                        buffer.Advance(result.Count);
                        // Bounded like the server's reads: a peer cannot make us buffer without end.
                        if (buffer.WrittenCount > _maxMessageBytes) throw new WebSocketMessageTooBigException(_maxMessageBytes);
                    } while (!result.EndOfMessage);
                    using var doc = JsonDocument.Parse(buffer.WrittenMemory);
                    var message = doc.RootElement.Clone();
                    if (message.GetProperty("type").GetString() == "session.expiring")
                    {
                        _expiring = true;   // new requests go to a new socket; this one finishes what it has
                        _onExpiring();
                        continue;
                    }
                    if (!message.TryGetProperty("id", out var idElement) || idElement.GetString() is not { } id) continue;
                    Pending? pending;
                    lock (_pending) _pending.TryGetValue(id, out pending);
                    if (pending is null) continue;
                    pending.Started = true;
                    await pending.Writer.WriteAsync(message, closing);   // a slow reader holds this socket back, bounded
                }
            }
            catch (WebSocketMessageTooBigException ex)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, $"messages are limited to {ex.MaxMessageBytes} bytes", timeout.Token);
                }
                catch (Exception)
                {
                    // Gone already: the abort below ends it either way.
                }
            }
            catch (Exception)
            {
                // Dead peer, missed pong, or our own close: every open request hears it below.
            }
            finally
            {
                _expiring = true;
                lock (_pending)
                {
                    foreach (var pending in _pending.Values) pending.Writer.TryComplete();
                }
                _socket.Abort();
            }
        }

        public async Task CloseAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "client closing", timeout.Token);
            }
            catch (Exception)
            {
                _socket.Abort();
            }
            _socket.Dispose();
        }
    }

    private sealed class Pending
    {
        private readonly Channel<JsonElement> _events = Channel.CreateBounded<JsonElement>(256);
        public volatile bool Started;
        public ChannelReader<JsonElement> Reader => _events.Reader;
        public ChannelWriter<JsonElement> Writer => _events.Writer;
    }
}
