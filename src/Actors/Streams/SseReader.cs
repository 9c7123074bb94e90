using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Akka.IO;

namespace Orchestrator.Actors.Streams;

/// <summary>
/// The byte-level half of <see cref="SseFraming"/>: WHATWG HTML, "Interpreting an event stream", on bytes.
/// Bytes are appended as they arrive and events read out one at a time, so the stage decides when to read.
/// Owned by one stage logic; not thread-safe. Both buffers come from <see cref="ArrayPool{T}.Shared"/> and go
/// back in <see cref="Dispose"/>.
/// </summary>
internal sealed class SseReader(int maxLineBytes) : IDisposable
{
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';
    private const int MinBufferBytes = 4096;
    private const int MinDataBytes = 256;

    // SSE spec: "Initialize event's type attribute to 'message'". A constant, so the common case allocates nothing.
    private const string DefaultEventType = "message";

    private readonly RecentStrings _eventTypes = new(capacity: 8);

    // Received bytes; [_start, _end) is not read yet and holds at most one partial line (plus the latest chunk).
    private byte[] _buffer = [];
    private int _start;
    private int _end;

    // Where the next CR/LF search starts, so a long partial line is not scanned again on every chunk.
    private int _scanFrom;

    // The last line ended with a CR that was the last byte we had: if the next byte is LF, it belongs to that CR.
    private bool _skipLeadingLf;
    private bool _bomChecked;

    // The spec's data buffer: each data value followed by LF. Non-empty exactly when a data field was seen.
    private byte[] _data = [];
    private int _dataLength;

    // SSE spec: the event type buffer resets on every dispatch; the last event ID and reconnection time persist.
    private string? _eventType;
    private string? _lastEventId;
    private int? _retryMs;

    /// <summary>
    /// Copies <paramref name="bytes"/> in. Called only once <see cref="TryRead"/> returned false, so what is
    /// held is one partial line (capped) plus this chunk.
    /// </summary>
    public void Append(ByteString bytes)
    {
        if (bytes.IsEmpty) return;
        var target = Room(bytes.Count);
        bytes.CopyTo(ref target);
        _end += bytes.Count;
    }

    /// <inheritdoc cref="Append(ByteString)"/>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        bytes.CopyTo(Room(bytes.Length));
        _end += bytes.Length;
    }

    private Span<byte> Room(int count)
    {
        if (_start == _end) _start = _end = _scanFrom = 0;
        if (_buffer.Length - _end < count) MakeRoom(_end - _start + count);
        return _buffer.AsSpan(_end, count);
    }

    /// <summary>
    /// Reads lines until one dispatches an event. False when the bytes held end before that; whatever partial
    /// event is buffered stays for the next call (and is dropped if the stream ends, as the spec says).
    /// </summary>
    /// <exception cref="SseLineTooLongException">A line, or the event's data, is longer than the cap.</exception>
    public bool TryRead([NotNullWhen(true)] out SseEvent? sseEvent)
    {
        while (TryReadLine(out var line))
        {
            // SSE spec: "If the line is empty (a blank line), dispatch the event".
            if (line.IsEmpty)
            {
                if (TryDispatch(out sseEvent)) return true;
            }
            else
            {
                ProcessLine(line);
            }
        }

        sseEvent = null;
        return false;
    }

    /// <summary>
    /// Like <see cref="TryRead"/> without allocating: <paramref name="data"/> is the next event's data (the event
    /// type is not kept), valid until the next call on this reader.
    /// </summary>
    public bool TryReadData(out ReadOnlySpan<byte> data)
    {
        while (TryReadLine(out var line))
        {
            if (!line.IsEmpty) ProcessLine(line);
            else if (TryDispatchData(out data)) return true;
        }

        data = default;
        return false;
    }

    /// <summary>
    /// Gives the buffers back to the pool when they hold nothing (between events, while the stream waits), so an
    /// idle stream holds no buffer. The span from the last <see cref="TryReadData"/> is invalid afterwards.
    /// </summary>
    public void Trim()
    {
        if (_start == _end && !_skipLeadingLf)
        {
            Return(ref _buffer);
            _start = _end = _scanFrom = 0;
        }
        if (_dataLength == 0) Return(ref _data);
    }

    public void Dispose()
    {
        Return(ref _buffer);
        Return(ref _data);
    }

    private bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        line = default;
        if (!_bomChecked && !TrySkipBom()) return false;
        if (_skipLeadingLf)
        {
            if (_start == _end) return false;
            _skipLeadingLf = false;
            if (_buffer[_start] == Lf) _scanFrom = ++_start;
        }

        var found = _buffer.AsSpan(_scanFrom, _end - _scanFrom).IndexOfAny(Cr, Lf);
        if (found < 0)
        {
            _scanFrom = _end;
            if (_end - _start > maxLineBytes) throw new SseLineTooLongException(maxLineBytes);
            return false;
        }

        var lineEnd = _scanFrom + found;
        if (lineEnd - _start > maxLineBytes) throw new SseLineTooLongException(maxLineBytes);
        line = _buffer.AsSpan(_start, lineEnd - _start);

        // SSE spec: lines end with CRLF, LF or CR. A CR ending our bytes may be half a CRLF: the line is complete
        // either way, so hand it out now and drop the LF if it turns out to come next.
        var next = lineEnd + 1;
        if (_buffer[lineEnd] == Cr)
        {
            if (next == _end) _skipLeadingLf = true;
            else if (_buffer[next] == Lf) next++;
        }

        _start = _scanFrom = next;
        return true;
    }

    // SSE spec: the stream is decoded as UTF-8 with "one leading U+FEFF BYTE ORDER MARK character" ignored; it
    // may arrive a byte at a time, so undecided until three bytes (or a non-BOM byte) are here.
    private bool TrySkipBom()
    {
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        var held = _buffer.AsSpan(_start, _end - _start);
        if (held.Length < bom.Length && bom.StartsWith(held)) return false;
        if (held.StartsWith(bom)) _scanFrom = _start += bom.Length;
        _bomChecked = true;
        return true;
    }

    private void ProcessLine(ReadOnlySpan<byte> line)
    {
        // SSE spec: "If the line starts with a U+003A COLON character (:), ignore the line."
        if (line[0] == (byte)':') return;

        // SSE spec: the field name is up to the first colon; "If value starts with a U+0020 SPACE character,
        // remove it from value". A line without a colon is a field name with an empty value.
        var name = line;
        ReadOnlySpan<byte> value = default;
        var colon = line.IndexOf((byte)':');
        if (colon >= 0)
        {
            name = line[..colon];
            value = line[(colon + 1)..];
            if (value.StartsWith((byte)' ')) value = value[1..];
        }

        if (name.SequenceEqual("data"u8)) AppendData(value);
        else if (name.SequenceEqual("event"u8)) _eventType = value.IsEmpty ? null : _eventTypes.Get(value);
        else if (name.SequenceEqual("id"u8)) SetLastEventId(value);
        else if (name.SequenceEqual("retry"u8)) SetRetry(value);
        // SSE spec: any other field name is ignored.
    }

    private void AppendData(ReadOnlySpan<byte> value)
    {
        // What the event's data would be if dispatched now: the cap holds for it, not only for single lines.
        if (_dataLength + value.Length > maxLineBytes) throw new SseLineTooLongException(maxLineBytes);
        var needed = _dataLength + value.Length + 1;
        if (_data.Length < needed)
        {
            var size = Math.Max(needed, Math.Min(Math.Max(_data.Length * 2, MinDataBytes), maxLineBytes + 1));
            var bigger = ArrayPool<byte>.Shared.Rent(size);
            _data.AsSpan(0, _dataLength).CopyTo(bigger);
            Return(ref _data);
            _data = bigger;
        }

        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
        _data[_dataLength++] = Lf;
    }

    // SSE spec: "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the field
    // value." An empty id resets it; null stands for the spec's initial empty string.
    private void SetLastEventId(ReadOnlySpan<byte> value)
    {
        if (value.Contains((byte)0)) return;
        _lastEventId = value.IsEmpty ? null : Encoding.UTF8.GetString(value);
    }

    // SSE spec: "If the field value consists of only ASCII digits, then interpret the field value as an integer
    // in base ten, and set the event stream's reconnection time to that integer. Otherwise, ignore the field."
    // A value too big for an int is ignored as well rather than failing the stream.
    private void SetRetry(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value.ContainsAnyExceptInRange((byte)'0', (byte)'9')) return;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var retryMs)) _retryMs = retryMs;
    }

    private bool TryDispatch([NotNullWhen(true)] out SseEvent? sseEvent)
    {
        var eventType = _eventType ?? DefaultEventType;
        if (!TryDispatchData(out var data))
        {
            sseEvent = null;
            return false;
        }
        sseEvent = new SseEvent(eventType, data.IsEmpty ? ReadOnlyMemory<byte>.Empty : data.ToArray(), _lastEventId, _retryMs);
        return true;
    }

    private bool TryDispatchData(out ReadOnlySpan<byte> data)
    {
        // SSE spec: "If the data buffer is an empty string, set the data buffer and the event type buffer to the
        // empty string and return."
        _eventType = null;
        if (_dataLength == 0)
        {
            data = default;
            return false;
        }

        // SSE spec: "If the data buffer's last character is a U+000A LINE FEED (LF) character, then remove the
        // last character from the data buffer."
        data = _data.AsSpan(0, _dataLength - 1);
        _dataLength = 0;
        return true;
    }

    // Moves the unread bytes to the front of a buffer with room for `needed` bytes, growing it only when the
    // unread partial line plus the new chunk do not fit.
    private void MakeRoom(int needed)
    {
        var unread = _end - _start;
        var scanOffset = _scanFrom - _start;
        if (_buffer.Length >= needed)
        {
            _buffer.AsSpan(_start, unread).CopyTo(_buffer);
        }
        else
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, MinBufferBytes));
            _buffer.AsSpan(_start, unread).CopyTo(bigger);
            Return(ref _buffer);
            _buffer = bigger;
        }

        _start = 0;
        _end = unread;
        _scanFrom = scanOffset;
    }

    private static void Return(ref byte[] buffer)
    {
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        buffer = [];
    }

    // Reuses the string for an event type seen recently: a stream that repeats `event: content_block_delta`
    // allocates it once rather than per event.
    private sealed class RecentStrings(int capacity)
    {
        private const int MaxCachedBytes = 64;
        private readonly byte[][] _keys = new byte[capacity][];
        private readonly string[] _values = new string[capacity];
        private int _count;
        private int _next;

        public string Get(ReadOnlySpan<byte> utf8)
        {
            for (var i = 0; i < _count; i++)
            {
                if (utf8.SequenceEqual(_keys[i])) return _values[i];
            }

            var value = Encoding.UTF8.GetString(utf8);
            if (utf8.Length > MaxCachedBytes) return value;
            _keys[_next] = utf8.ToArray();
            _values[_next] = value;
            _next = (_next + 1) % capacity;
            _count = Math.Min(_count + 1, capacity);
            return value;
        }
    }
}
