using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Gateway.Auth;

/// <summary>Who presented which key, and whether that key has expired.</summary>
/// <param name="Client">The client, or null for a missing or unknown key.</param>
/// <param name="Key">The key presented, when known.</param>
/// <param name="Expired">Whether the key is past its <see cref="ClientKey.NotAfter"/>.</param>
public readonly record struct ClientKeyMatch(GatewayClient? Client, ClientKey? Key, bool Expired);

/// <summary>Finds the client whose key the caller presents (<c>Authorization: Bearer</c> or <c>x-api-key</c>).</summary>
public sealed class ClientKeyAuthenticator(ClientKeyTable keys, TimeProvider time)
{
    public const string ApiKeyHeader = "x-api-key";
    private const string BearerPrefix = "Bearer ";

    /// <summary>
    /// The client and key, or no client for a missing or unknown key. Compares every key's hash in constant time; a key
    /// that has not expired counts as used now.
    /// </summary>
    public ClientKeyMatch Authenticate(HttpRequest request)
    {
        var key = PresentedKey(request);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (!ClientKeyHasher.TryHash(key, hash))
        {
            return default;
        }

        ClientKeyTable.Entry match = default;
        foreach (var entry in keys.Entries)
        {
            // No early exit: the time taken does not depend on which key (if any) matches.
            if (CryptographicOperations.FixedTimeEquals(hash, entry.Key.Hash))
            {
                match = entry;
            }
        }

        if (match.Client is null)
        {
            return default;
        }

        var now = time.GetUtcNow();
        var expired = match.Key.ExpiredAt(now);
        var seconds = now.ToUnixTimeSeconds();
        if (!expired && match.Key.LastUsed != seconds)
        {
            match.Key.LastUsed = seconds;
        }

        return new ClientKeyMatch(match.Client, match.Key, expired);
    }

    private static ReadOnlySpan<char> PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers[HeaderNames.Authorization];
        if (authorization.Count == 1)
        {
            var value = authorization[0].AsSpan();
            if (value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
            {
                return value[BearerPrefix.Length..].Trim();
            }
        }

        var apiKey = request.Headers[ApiKeyHeader];
        return apiKey.Count == 1 ? apiKey[0].AsSpan().Trim() : default;
    }
}
