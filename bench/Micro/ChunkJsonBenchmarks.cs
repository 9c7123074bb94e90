using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Orchestrator.Messages.Api;

namespace Orchestrator.Bench.Micro;

/// <summary>
/// Chunk re-serialisation as the relay does it per event: an upstream chunk's bytes to <see cref="ChatCompletionChunk"/>
/// (source-generated <see cref="WireJson"/>) and back to bytes. The chunk is the mock upstream's, shaped like
/// OpenAI's (<c>system_fingerprint</c> and <c>logprobs</c> land in the extension-data dictionaries).
/// </summary>
[MemoryDiagnoser]
public class ChunkJsonBenchmarks
{
    private static readonly byte[] Chunk =
        """{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-upstream","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"content":" tok42"},"logprobs":null,"finish_reason":null}]}"""u8.ToArray();

    private static readonly byte[] BareChunk =
        """{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-upstream","choices":[{"index":0,"delta":{"content":" tok42"},"finish_reason":null}]}"""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private Utf8JsonWriter _writer = null!;
    private ChatCompletionChunk _decoded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _writer = new Utf8JsonWriter(_buffer);
        _decoded = JsonSerializer.Deserialize(Chunk, WireJson.Default.ChatCompletionChunk)!;
    }

    [Benchmark]
    public ChatCompletionChunk Deserialize() => JsonSerializer.Deserialize(Chunk, WireJson.Default.ChatCompletionChunk)!;

    [Benchmark]
    public int Serialize() => Write(_decoded);

    [Benchmark(Baseline = true)]
    public int RoundTrip() => Write(JsonSerializer.Deserialize(Chunk, WireJson.Default.ChatCompletionChunk)!);

    /// <summary>The same without the fields the relay does not model: what the extension data costs.</summary>
    [Benchmark]
    public int RoundTripNoExtraFields() => Write(JsonSerializer.Deserialize(BareChunk, WireJson.Default.ChatCompletionChunk)!);

    private int Write(ChatCompletionChunk chunk)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        JsonSerializer.Serialize(_writer, chunk, WireJson.Default.ChatCompletionChunk);
        return _buffer.WrittenCount;
    }
}
