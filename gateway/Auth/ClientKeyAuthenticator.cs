using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Net.Http.Headers;

namespace Gateway.Auth;

/// <summary>Who presented which key, and whether that key has expired.</summary>
/// <param name="Client">The client, or null for a missing or unknown key.</param>
/// <param name="Key">The key presented, when known.</param>
/// <param name="Expired">Whether the key is past its <see cref="ClientKey.NotAfter"/>.</param>
public readonly record struct ClientKeyMatch(GatewayClient? Client, ClientKey? Key, bool Expired);

/// <summary>Finds the client whose key the caller presents (<c>Authorization: Bearer</c> or <c>x-api-key</c>).</summary>
/// <remarks>
/// An HTTP/1.x connection remembers the key it last presented and whose it was (in the connection's items): the next
/// request on it presenting the same header — Kestrel hands the same string back for the same bytes — skips the hashing
/// (SHA-256 through OpenSSL, the largest part of authenticating). Nothing else is skipped: a changed key table (a key
/// revoked or added, a secret re-read), a different key or another header is looked up afresh, and expiry is checked on
/// every request. HTTP/2 streams share their connection's items concurrently, so they always hash.
/// </remarks>
public sealed class ClientKeyAuthenticator(ClientKeyTable keys, TimeProvider time)
{
    public const string ApiKeyHeader = "x-api-key";
    private const string BearerPrefix = "Bearer ";

    private static readonly object KnownKeyItem = new();
    private long _hashed;

    /// <summary>How many presented keys were hashed (the rest were known to their connection).</summary>
    internal long KeysHashed => Interlocked.Read(ref _hashed);

    /// <summary>
    /// The client and key, or no client for a missing or unknown key. Compares every key's hash in constant time; a key
    /// that has not expired counts as used now.
    /// </summary>
    public ClientKeyMatch Authenticate(HttpRequest request)
    {
        var key = PresentedKey(request, out var header, out var bearer);
        var entries = keys.Entries;
        var items = header is not null && (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
            ? request.HttpContext.Features.Get<IConnectionItemsFeature>()?.Items
            : null;
        ClientKeyTable.Entry match;
        if (items is not null && items.TryGetValue(KnownKeyItem, out var item) && item is KnownKey known && known.Presents(header!, bearer, entries))
        {
            match = known.Match;
        }
        else
        {
            match = Find(key, entries);
            if (match.Client is null)
            {
                return default;
            }

            if (items is not null)
            {
                items[KnownKeyItem] = new KnownKey(header!, bearer, entries, match);
            }
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

    private ClientKeyTable.Entry Find(ReadOnlySpan<char> key, ClientKeyTable.Entry[] entries)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (!ClientKeyHasher.TryHash(key, hash))
        {
            return default;
        }

        Interlocked.Increment(ref _hashed);
        ClientKeyTable.Entry match = default;
        foreach (var entry in entries)
        {
            // No early exit: the time taken does not depend on which key (if any) matches.
            if (CryptographicOperations.FixedTimeEquals(hash, entry.Key.Hash))
            {
                match = entry;
            }
        }

        return match;
    }

    // The key, and the header value it was read from (null when there is none, or several).
    private static ReadOnlySpan<char> PresentedKey(HttpRequest request, out string? header, out bool bearer)
    {
        var authorization = request.Headers[HeaderNames.Authorization];
        if (authorization.Count == 1)
        {
            header = authorization[0]!;
            if (header.AsSpan().StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
            {
                bearer = true;
                return header.AsSpan(BearerPrefix.Length).Trim();
            }
        }

        bearer = false;
        var apiKey = request.Headers[ApiKeyHeader];
        header = apiKey.Count == 1 ? apiKey[0] : null;
        return header.AsSpan().Trim();
    }

    /// <summary>The header a connection last presented a known key in, and whose key it was in which key table.</summary>
    private sealed class KnownKey(string header, bool bearer, ClientKeyTable.Entry[] entries, ClientKeyTable.Entry match)
    {
        public ClientKeyTable.Entry Match { get; } = match;

        public bool Presents(string presented, bool asBearer, ClientKeyTable.Entry[] current)
            => ReferenceEquals(entries, current) && asBearer == bearer
                && (ReferenceEquals(presented, header)
                    || CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(presented.AsSpan()), MemoryMarshal.AsBytes(header.AsSpan())));
    }
}
