using System.Net.WebSockets;
using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using Orchestrator.Actors.Front;
using Orchestrator.Actors.Realtime;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Http;

/// <summary>
/// <c>GET /v1/realtime</c>: a WebSocket carrying many chat requests at once (protocol in README "Realtime WebSocket").
/// The host's part is the socket itself: authenticate before the upgrade, then one read stream (messages received
/// only on demand, parsed into commands for the socket's <see cref="RealtimeConnectionActor"/>, on the edge's one
/// materializer) and one write loop (the actor's bounded send queue onto the wire). Ping/pong is Kestrel's
/// keep-alive, configured from <c>orchestrator.realtime</c>.
/// </summary>
public static class RealtimeEndpoints
{
    /// <summary>The subprotocol the server selects and echoes; a key travels in a second, never-echoed protocol.</summary>
    public const string Protocol = "orchestrator.v1";

    /// <summary>OpenAI's realtime convention for browsers, which cannot set headers.</summary>
    public const string KeyProtocolPrefix = "openai-insecure-api-key.";

    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapRealtimeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/realtime", HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext http, OrchestratorSettings settings, ClientKeys keys, IRequiredActor<RealtimeSupervisor> supervisor, EdgeStreams edge)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await OpenAiErrors.WriteAsync(http.Response, ApiError.InvalidRequest(
                "This endpoint speaks WebSocket: connect with an upgrade request to ws://HOST/v1/realtime.", null, "websocket_required"));
            return;
        }
        if (await AuthenticateAsync(http, keys) is { } refusal)
        {
            await OpenAiErrors.WriteAsync(http.Response, refusal);   // before the upgrade: a plain 401, as over HTTP
            return;
        }

        var realtime = settings.Realtime;
        var offered = http.WebSockets.WebSocketRequestedProtocols;
        using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offered.Contains(Protocol) ? Protocol : null,   // never the key protocol
            KeepAliveInterval = realtime.HeartbeatInterval,
            KeepAliveTimeout = realtime.HeartbeatTimeout,
        });
        string? defaultModel = http.Request.Query["model"];
        // Built before the actor, whose lifetime starts in PreStart; it receives nothing until it runs in ReadAsync.
        var commands = WebSocketFrames.Source(socket, realtime.MaxMessageBytes, http.RequestAborted)
            .Via(RealtimeFrames.Flow(string.IsNullOrEmpty(defaultModel) ? null : defaultModel));
        var outgoing = Channel.CreateBounded<RealtimeOutgoing>(new BoundedChannelOptions(realtime.SendBufferFrames) { SingleReader = true });
        var connectionId = http.TraceIdentifier;
        var started = await supervisor.ActorRef.Ask<RealtimeConnectionStarted>(
            new StartRealtimeConnection(connectionId, outgoing.Writer, ClientKeyFilter.Caller(http)) { KeyId = ClientKeyFilter.KeyId(http) }, settings.Http.ReplyTimeout, http.RequestAborted);
        var connection = started.Connection;

        var writing = WriteLoopAsync(socket, outgoing.Reader);
        try
        {
            await ReadAsync(commands, connection, outgoing.Writer, realtime.MaxMessageBytes, edge, http.RequestAborted);
        }
        finally
        {
            connection.Tell(RealtimeClosed.Instance);   // the actor stops, and every request on this socket with it
            await writing.WaitAsync(CloseWait).ContinueWith(_ => { });
        }
    }

    /// <summary>The key from the header, the <c>api_key</c> query parameter, or the key subprotocol; null when it is good.</summary>
    private static async ValueTask<ApiError?> AuthenticateAsync(HttpContext http, ClientKeys keys)
    {
        if (!keys.Enabled) return null;   // Caller(http) then reads "anonymous", as over HTTP
        string? key = null;
        var header = http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) key = header["Bearer ".Length..].Trim();
        else if (http.Request.Query["api_key"].ToString() is { Length: > 0 } query) key = query;
        else if (http.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith(KeyProtocolPrefix, StringComparison.Ordinal)) is { } protocol)
            key = protocol[KeyProtocolPrefix.Length..];

        if (key is null)
            return ApiError.InvalidApiKey("You didn't provide an API key. Send 'Authorization: Bearer <key>', the 'api_key' query parameter, or the subprotocol 'openai-insecure-api-key.<key>' next to 'orchestrator.v1'.");
        var (identity, refusal) = await keys.IdentifyAsync(key, http.RequestAborted);
        if (identity is null) return ApiError.InvalidApiKey(refusal ?? "Incorrect API key provided. Send one of the configured client keys.");
        ClientKeyFilter.SetCaller(http, identity);
        return null;
    }

    /// <summary>
    /// The socket's messages, parsed, told to the connection actor one by one until the peer closes or the socket
    /// dies. The socket is received from only as the stream asks, and a message over the cap closes it with 1009.
    /// </summary>
    private static async Task ReadAsync(Source<IRealtimeCommand, NotUsed> commands, IActorRef connection, ChannelWriter<RealtimeOutgoing> outgoing, int maxBytes, EdgeStreams edge, CancellationToken ct)
    {
        try
        {
            await commands.RunWith(Sink.ForEach<IRealtimeCommand>(command => connection.Tell(command)), edge.Materializer);
        }
        catch (WebSocketMessageTooBigException)
        {
            await outgoing.WriteAsync(RealtimeOutgoing.Close((int)WebSocketCloseStatus.MessageTooBig, $"messages are limited to {maxBytes} bytes"), ct);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or AbruptStageTerminationException)
        {
            // The peer vanished (or missed its pongs and Kestrel aborted the socket), or the host is stopping: nothing left to read.
        }
    }

    private static async Task WriteLoopAsync(WebSocket socket, ChannelReader<RealtimeOutgoing> outgoing)
    {
        try
        {
            await foreach (var item in outgoing.ReadAllAsync())
            {
                if (item.CloseStatus is { } status)
                {
                    using var timeout = new CancellationTokenSource(CloseWait);
                    await socket.CloseOutputAsync((WebSocketCloseStatus)status, item.CloseReason, timeout.Token);
                    return;
                }
                await socket.SendAsync(item.Frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            // The actor stopped without a close of its own (a crash with the queue full): end the socket rather
            // than leave the client talking to nobody. A close the client began needs no more from us.
            if (socket.State == WebSocketState.Open) socket.Abort();
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket is gone; the read stream sees it too and the actor stops.
        }
    }
}
