using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Http;

/// <summary>Reading and writing the admin API's JSON: strict fields (an unknown one is refused by name), exact money, UTC times.</summary>
public static class AdminJson
{
    private const int MaxBodyBytes = 64 * 1024;
    private const int MaxNameLength = 128;

    /// <summary>The body as a JSON object, or null once a 400 has been written.</summary>
    public static async Task<JsonElement?> ReadObjectAsync(HttpContext http)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(new LimitedStream(http.Request.Body, MaxBodyBytes), default, http.RequestAborted);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return document.RootElement.Clone();
        }
        catch (JsonException)
        {
        }
        catch (InvalidDataException)
        {
            await OpenAiErrors.WriteAsync(http.Response, new ApiError(413, $"The request body is larger than {MaxBodyBytes} bytes.", "invalid_request_error", null, "request_too_large"));
            return null;
        }
        await OpenAiErrors.WriteAsync(http.Response, ApiError.InvalidRequest("The request body must be a JSON object.", null, "invalid_json"));
        return null;
    }

    public static ApiError? OnlyKnown(JsonElement body, params string[] known)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (!known.Contains(property.Name))
                return ApiError.InvalidRequest($"Unrecognized request argument supplied: {ApiError.Quote(property.Name)} (known: {string.Join(", ", known)}).", property.Name, "unknown_parameter");
        }
        return null;
    }

    public static ApiError? RequiredString(JsonElement body, string name, out string? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(element.GetString()))
            return ApiError.InvalidRequest($"'{name}' is required: a non-empty string.", name);
        value = element.GetString()!.Trim();
        if (value.Length > MaxNameLength) return ApiError.InvalidRequest($"'{name}' is longer than {MaxNameLength} characters.", name);
        return null;
    }

    public static ApiError? OptionalString(JsonElement body, string name, int maxLength, out string? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.String) return ApiError.InvalidRequest($"'{name}' must be a string.", name);
        value = element.GetString()!;
        return value.Length > maxLength ? ApiError.InvalidRequest($"'{name}' is longer than {maxLength} characters.", name) : null;
    }

    /// <summary>USD as a JSON number, read as a decimal (never through a double), to the millionth of a cent at most.</summary>
    public static ApiError? Money(JsonElement body, string name, bool allowNegative, out decimal? amount)
    {
        amount = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDecimal(out var value))
            return ApiError.InvalidRequest($"'{name}' must be a number of US dollars.", name);
        if (!allowNegative && value < 0) return ApiError.InvalidRequest($"'{name}' must not be negative.", name);
        if (Math.Abs(value) > 1_000_000_000m) return ApiError.InvalidRequest($"'{name}' is out of range.", name);
        amount = value;
        return null;
    }

    /// <summary>An ISO-8601 time with an offset ("2027-01-01T00:00:00Z"), or null to clear it.</summary>
    public static ApiError? Time(JsonElement body, string name, out Change<DateTimeOffset?> time)
    {
        time = Change<DateTimeOffset?>.Keep;
        if (!body.TryGetProperty(name, out var element)) return null;
        if (element.ValueKind == JsonValueKind.Null)
        {
            time = Change<DateTimeOffset?>.To(null);
            return null;
        }
        if (element.ValueKind != JsonValueKind.String || !TryParseTime(element.GetString(), out var value))
            return ApiError.InvalidRequest($"'{name}' must be an ISO-8601 time such as \"2027-01-01T00:00:00Z\", or null.", name);
        time = Change<DateTimeOffset?>.To(value);
        return null;
    }

    /// <summary>An ISO-8601 time, UTC when it names no offset, returned in UTC: every time the admin API and the keys command read.</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time)
    {
        var parsed = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
        if (parsed) time = time.ToUniversalTime();
        return parsed;
    }

    /// <summary>The same amount without trailing zeros (0.000340 -> 0.00034): what money looks like in JSON and CSV.</summary>
    public static decimal Plain(decimal amount) => amount / 1.000000000000000000000000000000000m;

    public static string Format(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);

    public static async Task WriteAsync(HttpContext http, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer)) write(json);
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
    }

    /// <summary>A body stream that fails past <paramref name="limit"/> bytes (admin bodies are small).</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            if (_read > limit) throw new InvalidDataException("body too large");
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
