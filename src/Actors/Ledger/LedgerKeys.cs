using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Actors.Ledger;

/// <summary>
/// Ledger keys: <c>sk-orc-</c> and 32 random bytes (base64url), so a key cannot be guessed and its SHA-256 is a safe
/// thing to store and look up by. The secret is shown once, when made, and kept nowhere.
/// </summary>
public static class LedgerKeys
{
    public const string Prefix = "sk-orc-";

    public sealed record NewKey(string KeyId, string Secret, string SecretHash)
    {
        public override string ToString() => $"NewKey({KeyId})";   // never the secret
    }

    public static NewKey Create()
    {
        var id = "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        return new NewKey(id, secret, Hash(secret));
    }

    /// <summary>Lowercase hex SHA-256 of the key's UTF-8 bytes.</summary>
    public static string Hash(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(secret.Length, 256))];
        if (secret.Length > 256) return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret.ToString())));
        var length = Encoding.UTF8.GetBytes(secret, utf8);
        return Convert.ToHexStringLower(SHA256.HashData(utf8[..length]));
    }

    public static bool LooksLikeLedgerKey(ReadOnlySpan<char> key) => key.StartsWith(Prefix, StringComparison.Ordinal);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
