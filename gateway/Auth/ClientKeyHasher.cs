using System.Security.Cryptography;
using System.Text;

namespace Gateway.Auth;

/// <summary>Client keys: generation, hashing and hash parsing.</summary>
public static class ClientKeyHasher
{
    /// <summary>Prefix of every key the gateway issues, so a leaked key is recognisable by secret scanners.</summary>
    public const string KeyPrefix = "gwk_";

    /// <summary>Longest key accepted; longer input is rejected before hashing.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>A new random key (256 bits).</summary>
    public static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>Lowercase hex SHA-256 of the key, as written in <c>KeySha256</c>.</summary>
    public static string HashHex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Hashes a presented key into <paramref name="hash"/> without allocating; false when it is too long.</summary>
    public static bool TryHash(ReadOnlySpan<char> key, Span<byte> hash)
    {
        if (key.IsEmpty || key.Length > MaxKeyLength)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[MaxKeyLength * 3];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        SHA256.HashData(utf8[..length], hash);
        return true;
    }

    /// <summary>The 32 bytes of a hex hash, or null when it is not 64 hex characters.</summary>
    public static byte[]? ParseHash(string? hex)
    {
        if (hex is null || hex.Length != 64)
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A key's label when configuration gives none: <c>sha256:</c> and the first 8 characters of its hash (not of the key).</summary>
    public static string DefaultLabel(byte[] hash) => "sha256:" + Convert.ToHexStringLower(hash, 0, 4);

    /// <summary>Whether a configured label is fit for a metric label and an error message.</summary>
    public static bool IsValidLabel(string label)
        => label.Length is > 0 and <= 64 && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
