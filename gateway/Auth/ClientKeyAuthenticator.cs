using System.Security.Cryptography;
using Gateway.Hosting;
using Microsoft.Net.Http.Headers;

namespace Gateway.Auth;

/// <summary>Finds the client whose key the caller presents (<c>Authorization: Bearer</c> or <c>x-api-key</c>).</summary>
public sealed class ClientKeyAuthenticator(GatewaySettingsMonitor settings)
{
    public const string ApiKeyHeader = "x-api-key";
    private const string BearerPrefix = "Bearer ";

    /// <summary>The client, or null for a missing or unknown key. Compares every client's hash in constant time.</summary>
    public GatewayClient? Authenticate(HttpRequest request)
    {
        var key = PresentedKey(request);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (!ClientKeyHasher.TryHash(key, hash))
        {
            return null;
        }

        GatewayClient? match = null;
        foreach (var client in settings.Current.Clients)
        {
            // No early exit: the time taken does not depend on which client (if any) matches.
            if (CryptographicOperations.FixedTimeEquals(hash, client.KeyHash))
            {
                match = client;
            }
        }

        return match;
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
