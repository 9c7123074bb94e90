using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Messages;

/// <summary>
/// A key or token. Records print every property, so a plain <c>string ApiKey</c> would leak into logs:
/// this type prints as <c>***</c> and hands its value out only through <see cref="Reveal"/>.
/// </summary>
public sealed class Secret : IEquatable<Secret>
{
    private readonly string _value;

    public Secret(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        _value = value;
    }

    public string Reveal() => _value;

    /// <summary>Compares in constant time, so a caller cannot learn a key byte by byte from timings.</summary>
    public bool Matches(ReadOnlySpan<char> candidate)
    {
        Span<byte> mine = stackalloc byte[32];
        Span<byte> theirs = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(_value), mine);
        var buffer = Encoding.UTF8.GetBytes(candidate.ToArray());
        SHA256.HashData(buffer, theirs);
        return CryptographicOperations.FixedTimeEquals(mine, theirs);
    }

    public bool Equals(Secret? other) => other is not null && Matches(other._value);
    public override bool Equals(object? obj) => obj is Secret s && Equals(s);
    public override int GetHashCode() => 0;   // never a hash of the value: hashes end up in dumps too
    public override string ToString() => "***";
}
