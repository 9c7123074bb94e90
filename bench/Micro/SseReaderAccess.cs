using System.Runtime.CompilerServices;
using Akka.IO;
using Orchestrator.Actors.Streams;

namespace Orchestrator.Bench.Micro;

/// <summary>
/// <c>SseReader</c>, the byte-level core of <see cref="SseFraming"/>, is internal to Orchestrator.Actors (visible
/// to the tests only) and bench/ may not change src/. .NET 10's <see cref="UnsafeAccessorTypeAttribute"/> reaches it
/// without reflection on the call path: these are direct calls, as fast as from inside the assembly.
/// </summary>
internal static class SseReaderAccess
{
    private const string ReaderType = "Orchestrator.Actors.Streams.SseReader, Orchestrator.Actors";

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    [return: UnsafeAccessorType(ReaderType)]
    public static extern object Create(int maxLineBytes);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Append")]
    public static extern void Append([UnsafeAccessorType(ReaderType)] object reader, ByteString bytes);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "TryRead")]
    public static extern bool TryRead([UnsafeAccessorType(ReaderType)] object reader, out SseEvent? sseEvent);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "TryReadData")]
    public static extern bool TryReadData([UnsafeAccessorType(ReaderType)] object reader, out ReadOnlySpan<byte> data);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Dispose")]
    public static extern void Dispose([UnsafeAccessorType(ReaderType)] object reader);
}
