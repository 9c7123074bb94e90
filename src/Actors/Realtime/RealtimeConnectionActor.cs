using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using Orchestrator.Actors.Settings;
using Orchestrator.Actors.Upstream;
using Orchestrator.Messages.Api;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Realtime;

namespace Orchestrator.Actors.Realtime;

/// <summary>
/// One client WebSocket on <c>/v1/realtime</c> (<c>realtime-N</c>). The host reads frames and hands this actor parsed
/// commands; this actor sends each request to the front, runs every answer's chunks into the socket's bounded send
/// queue (a client that does not read fills it, and the streams wait, slowing their upstream reads), and keeps the
/// socket's lifetime: at <c>max-lifetime - expiry-notice</c> it announces <c>session.expiring</c>, takes no new
/// requests, and closes 1001 once the last one has finished. Ping/pong is Kestrel's WebSocket keep-alive
/// (<c>heartbeat-interval</c>, <c>heartbeat-timeout</c>); a dead peer ends the host's read stream, which tells this actor
/// <see cref="RealtimeClosed"/>. Stopping cancels every request on the socket, upstream included (the streams run on
/// this actor's materializer and the front is told to cancel what had not started).
/// </summary>
public sealed class RealtimeConnectionActor : ReceiveActor, IWithTimers
{
    private const string LifetimeTimer = "max-lifetime";

    private sealed record LifetimeExpiring
    {
        public static readonly LifetimeExpiring Instance = new();
    }
    private sealed record RequestEnded(string ClientId, Exception? Cause = null);
    private sealed record QueueHasRoom(bool Open);

    /// <summary>The client did not read: a frame of this request waited past send-timeout for room in the queue.</summary>
    private sealed class SlowConsumerException() : Exception("the client is not reading its answers");

    /// <summary>What one request's stream saw, for its done event. Written by the stream, read by it at its end.</summary>
    private sealed class Answer
    {
        public string? FinishReason;
        public Usage? Usage;
        public volatile bool Cancelled;
    }

    private sealed class Request(string clientId)
    {
        public string ClientId { get; } = clientId;
        public SharedKillSwitch? Switch { get; set; }
        public Answer Answer { get; } = new();
    }

    private static readonly byte[] NoFrame = [];

    /// <summary>Marks the end of an answer's chunks, where its done event goes.</summary>
    private static readonly ChatCompletionChunk EndOfAnswer = new() { Id = "end-of-answer" };

    private readonly RealtimeSettings _settings;
    private readonly IActorRef _front;
    private readonly ChannelWriter<RealtimeOutgoing> _outgoing;
    private readonly string _connectionId;
    private readonly string _caller;
    private readonly string? _keyId;
    private readonly Dictionary<string, Request> _requests = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IMaterializer _materializer = Context.Materializer();
    /// <summary>
    /// Frames of our own (errors, expiry, close) waiting for room in the send queue, in order; capped at
    /// send-buffer-frames so a client that sends bad frames and never reads cannot grow it.
    /// </summary>
    private readonly Queue<RealtimeOutgoing> _pending = new();
    private bool _awaitingRoom;
    private bool _stoppedNormally;
    private long _assigned;
    private bool _expiring;

    public ITimerScheduler Timers { get; set; } = null!;

    public RealtimeConnectionActor(RealtimeSettings settings, IActorRef front, ChannelWriter<RealtimeOutgoing> outgoing, string connectionId, string caller, string? keyId = null)
    {
        _keyId = keyId;
        _settings = settings;
        _front = front;
        _outgoing = outgoing;
        _connectionId = connectionId;
        _caller = caller;
        Receive<RealtimeCreate>(OnCreate);
        Receive<RealtimeCancel>(OnCancel);
        Receive<RealtimeInvalid>(invalid => Send(RealtimeEvents.Error(invalid.ClientId, invalid.Error)));
        Receive<ChatStreaming>(OnStreaming);
        Receive<ChatCompleted>(OnCompleted);
        Receive<ChatRejected>(OnRejected);
        Receive<RequestEnded>(OnRequestEnded);
        Receive<LifetimeExpiring>(_ => OnExpiring());
        Receive<QueueHasRoom>(OnQueueHasRoom);
        Receive<RealtimeClosed>(_ => StopNormally());
    }

    public static Props Props(RealtimeSettings settings, IActorRef front, ChannelWriter<RealtimeOutgoing> outgoing, string connectionId, string caller, string? keyId = null) =>
        Akka.Actor.Props.Create(() => new RealtimeConnectionActor(settings, front, outgoing, connectionId, caller, keyId));

    protected override void PreStart() =>
        Timers.StartSingleTimer(LifetimeTimer, LifetimeExpiring.Instance, _settings.MaxLifetime - _settings.ExpiryNotice);

    protected override void PostStop()
    {
        // Requests not streaming yet are cancelled at the front; running streams stop with this actor's materializer.
        foreach (var request in _requests.Values.Where(r => r.Switch is null)) _front.Tell(new CancelChat(EngineId(request.ClientId)));
        // Stopped by a crash (RealtimeSupervisor never restarts us): the client learns it at once, 1011, instead of
        // waiting on requests nobody remembers. If the queue is full the host aborts the socket instead.
        if (!_stoppedNormally) _outgoing.TryWrite(RealtimeOutgoing.Close(1011, "internal error; reconnect"));
        _outgoing.TryComplete();
    }

    private void StopNormally()
    {
        _stoppedNormally = true;
        Context.Stop(Self);
    }

    private string EngineId(string clientId) => $"{_connectionId}/{clientId}";

    private string? ClientIdOf(string engineId) =>
        engineId.StartsWith(_connectionId + "/", StringComparison.Ordinal) ? engineId[(_connectionId.Length + 1)..] : null;

    private void OnCreate(RealtimeCreate create)
    {
        var id = create.ClientId ?? $"req_{++_assigned}";
        if (_expiring)
        {
            Send(RealtimeEvents.Error(id, new ApiError(503, "This session is expiring: reconnect and send the request on the new socket.", "api_error", null, "session_expiring")));
            return;
        }
        if (_requests.ContainsKey(id))
        {
            Send(RealtimeEvents.Error(id, ApiError.InvalidRequest($"A request with id '{id}' is already in flight on this socket.", "id", "duplicate_id")));
            return;
        }
        if (_requests.Count >= _settings.MaxConcurrentRequests)
        {
            Send(RealtimeEvents.Error(id, new ApiError(429, $"At most {_settings.MaxConcurrentRequests} requests may be in flight on one socket.", "requests", null, "too_many_requests")));
            return;
        }
        _requests[id] = new Request(id);
        _front.Tell(new CreateChat(EngineId(id), create.Request, _caller) { KeyId = _keyId });
    }

    private void OnCancel(RealtimeCancel cancel)
    {
        if (!_requests.TryGetValue(cancel.ClientId, out var request))
        {
            Send(RealtimeEvents.Error(cancel.ClientId, ApiError.InvalidRequest($"No request with id '{cancel.ClientId}' is in flight.", "id", "unknown_id")));
            return;
        }
        if (request.Switch is { } running)
        {
            // The stream ends with a done event whose finish_reason says so; its upstream call is closed.
            request.Answer.Cancelled = true;
            running.Shutdown();
            return;
        }
        _front.Tell(new CancelChat(EngineId(cancel.ClientId)));
        _requests.Remove(cancel.ClientId);
        Send(RealtimeEvents.Done(cancel.ClientId, "cancelled", null));
        ReleaseIfRetired();
    }

    private void OnStreaming(ChatStreaming streaming)
    {
        if (ClientIdOf(streaming.RequestId) is not { } id || !_requests.TryGetValue(id, out var request)) return;
        var answer = request.Answer;
        var outgoing = _outgoing;
        var sendTimeout = _settings.SendTimeout;
        var killSwitch = KillSwitches.Shared($"realtime-{id}");
        var done = streaming.Answer
            .Via(killSwitch.Flow<AnswerBlock>())
            .SelectMany(block => block.ReadChunks())
            .Concat(Source.Single(EndOfAnswer))   // after the last chunk, or right after a cancel
            .Select(chunk =>
            {
                if (ReferenceEquals(chunk, EndOfAnswer)) return RealtimeEvents.Done(id, answer.Cancelled ? "cancelled" : answer.FinishReason, answer.Usage);
                if (chunk.Usage is not null) answer.Usage = chunk.Usage;
                if (chunk.Choices.Count > 0 && chunk.Choices[0].FinishReason is { } finish) answer.FinishReason = finish;
                return chunk.Choices.Count == 0 ? NoFrame : RealtimeEvents.Chunk(id, chunk);   // usage arrives in the done event
            })
            .Where(frame => frame.Length > 0)
            .Recover(ex => Option<byte[]>.Create(RealtimeEvents.Error(id, FailureClassifier.StreamError(ex))))
            // The send queue is bounded: a client that does not read makes this wait, and the upstream read with it.
            .SelectAsync(1, frame => WriteAsync(outgoing, frame, sendTimeout))
            .RunWith(Sink.Ignore<NotUsed>(), _materializer);
        request.Switch = killSwitch;
        done.PipeTo(Self, success: () => new RequestEnded(id), failure: ex => new RequestEnded(id, ex));
    }


    /// <summary>Waits for room in the bounded queue, but not forever: a client that never reads fails its request.</summary>
    private static async Task<NotUsed> WriteAsync(ChannelWriter<RealtimeOutgoing> outgoing, byte[] frame, TimeSpan timeout)
    {
        var item = new RealtimeOutgoing(frame);
        if (outgoing.TryWrite(item)) return NotUsed.Instance;
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await outgoing.WriteAsync(item, wait.Token);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            throw new SlowConsumerException();
        }
        catch (ChannelClosedException)
        {
            // The socket is closing: nobody left to write to; the stream stops with this actor.
        }
        return NotUsed.Instance;
    }

    private void OnCompleted(ChatCompleted completed)
    {
        if (ClientIdOf(completed.RequestId) is not { } id || !_requests.Remove(id)) return;
        var completion = completed.Parse();
        var choice = completion.Choices.FirstOrDefault();
        Send(RealtimeEvents.Done(id, choice?.FinishReason, completion.Usage));
        ReleaseIfRetired();
    }

    private void OnRejected(ChatRejected rejected)
    {
        if (ClientIdOf(rejected.RequestId) is not { } id || !_requests.Remove(id)) return;
        Send(RealtimeEvents.Error(id, rejected.Error));
        ReleaseIfRetired();
    }

    private void OnRequestEnded(RequestEnded ended)
    {
        _requests.Remove(ended.ClientId);
        if (ended.Cause is SlowConsumerException)
        {
            _log.Warning("Realtime socket {ConnectionId}: request {ClientId} failed, the client is not reading", _connectionId, ended.ClientId);
            Send(RealtimeEvents.Error(ended.ClientId, new ApiError(408,
                $"The answer was stopped: this socket's send queue stayed full for {_settings.SendTimeout.TotalSeconds:0.###}s (the client is not reading).", "api_error", null, "slow_consumer")));
        }
        ReleaseIfRetired();
    }

    private void OnExpiring()
    {
        _expiring = true;
        _log.Info("Realtime socket {ConnectionId}: max-lifetime near, expiring ({Requests} requests finish first)", _connectionId, _requests.Count);
        Send(RealtimeEvents.SessionExpiring(_settings.ExpiryNotice));
        ReleaseIfRetired();
    }

    /// <summary>An expiring socket closes (1001, going away) once its last request has finished.</summary>
    private void ReleaseIfRetired()
    {
        if (!_expiring || _requests.Count > 0) return;
        Enqueue(RealtimeOutgoing.Close(1001, "session expired; reconnect"));
        StopNormally();
    }

    /// <summary>A frame that is not part of a request's stream (errors, expiry): into the same bounded queue as answers.</summary>
    private void Send(byte[] frame) => Enqueue(new RealtimeOutgoing(frame));

    private void Enqueue(RealtimeOutgoing item)
    {
        if (_pending.Count == 0 && _outgoing.TryWrite(item)) return;
        if (_pending.Count >= _settings.SendBufferFrames) throw new RealtimeClientNotReadingException(_connectionId, _pending.Count);
        _pending.Enqueue(item);
        AwaitRoom();
    }

    /// <summary>One wait at a time, piped back: the frames go out in order, from this actor's thread.</summary>
    private void AwaitRoom()
    {
        if (_awaitingRoom) return;
        _awaitingRoom = true;
        _outgoing.WaitToWriteAsync().AsTask().PipeTo(Self, success: open => new QueueHasRoom(open), failure: _ => new QueueHasRoom(false));
    }

    private void OnQueueHasRoom(QueueHasRoom room)
    {
        _awaitingRoom = false;
        if (!room.Open)
        {
            _pending.Clear();   // the socket is closing: nobody left to write to
            return;
        }
        while (_pending.TryPeek(out var item) && _outgoing.TryWrite(item)) _pending.Dequeue();
        if (_pending.Count > 0) AwaitRoom();
    }
}
