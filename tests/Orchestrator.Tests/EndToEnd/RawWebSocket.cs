using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// A WebSocket client on a bare TCP socket, for what <see cref="System.Net.WebSockets.ClientWebSocket"/> hides: seeing
/// the server's pings, never answering them, never reading at all (with a receive buffer the test chose).
/// </summary>
public static class RawWebSocket
{
    /// <summary>Connects <paramref name="tcp"/> to the relay's <c>/v1/realtime</c> and completes the upgrade.</summary>
    public static async Task<NetworkStream> HandshakeAsync(TcpClient tcp, Uri relay)
    {
        await tcp.ConnectAsync(IPAddress.Loopback, relay.Port);
        var stream = tcp.GetStream();
        var handshake = $"GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1:{relay.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                        $"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\nSec-WebSocket-Version: 13\r\n" +
                        $"Authorization: Bearer {RelayFixture.ClientKey}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));
        var response = new StringBuilder();
        var one = new byte[1];
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1) response.Append((char)one[0]);
        Assert.StartsWith("HTTP/1.1 101", response.ToString());
        return stream;
    }

    /// <summary>A client text frame (clients must mask), up to 64 KiB of payload.</summary>
    public static byte[] MaskedText(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var mask = new byte[] { 1, 2, 3, 4 };
        var frame = new List<byte> { 0x81 };
        if (payload.Length < 126) frame.Add((byte)(0x80 | payload.Length));
        else frame.AddRange([0x80 | 126, (byte)(payload.Length >> 8), (byte)payload.Length]);
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        return [.. frame];
    }

    /// <summary>
    /// Takes the first whole server frame (unmasked, up to 64 KiB of payload) off the front of <paramref name="pending"/>,
    /// the bytes read so far; false while it is not all there.
    /// </summary>
    public static bool TryTakeFrame(List<byte> pending, out int opcode, out byte[] payload)
    {
        opcode = 0;
        payload = [];
        if (pending.Count < 2) return false;
        var length = pending[1] & 0x7F;
        var header = 2;
        if (length == 126)
        {
            if (pending.Count < 4) return false;
            length = (pending[2] << 8) | pending[3];
            header = 4;
        }
        if (pending.Count < header + length) return false;
        opcode = pending[0] & 0x0F;
        payload = pending.GetRange(header, length).ToArray();
        pending.RemoveRange(0, header + length);
        return true;
    }
}
