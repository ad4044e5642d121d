using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;

namespace Gateway.Secrets;

/// <summary>
/// AWS Signature Version 4 for the few calls the gateway makes: the canonical request is made here (method, path,
/// sorted query, the signed headers lowercased and sorted, the payload's SHA-256), the signing key and signature by the
/// AWS SDK's signer (<see cref="AWS4Signer.ComputeSignature(ImmutableCredentials, string, DateTime, string, string, string)"/>).
/// </summary>
public static class AwsSigV4
{
    public const string DateHeader = "X-Amz-Date";
    public const string TokenHeader = "X-Amz-Security-Token";

    /// <summary>x-amz-date's format: basic ISO 8601 in UTC.</summary>
    public static string AmzDate(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The canonical request: <paramref name="headers"/> must hold every header to sign, <c>host</c> and
    /// <c>x-amz-date</c> included (names in any case; values trimmed, inner runs of spaces folded).
    /// </summary>
    public static string CanonicalRequest(string method, Uri uri, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> payload, out string signedHeaders)
    {
        var sorted = headers
            .GroupBy(h => h.Key.ToLowerInvariant(), h => string.Join(' ', h.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        signedHeaders = string.Join(';', sorted.Select(g => g.Key));
        var text = new StringBuilder()
            .Append(method).Append('\n')
            .Append(uri.AbsolutePath.Length == 0 ? "/" : uri.AbsolutePath).Append('\n')
            .Append(CanonicalQuery(uri.Query)).Append('\n');
        foreach (var header in sorted)
        {
            text.Append(header.Key).Append(':').Append(string.Join(',', header)).Append('\n');
        }

        return text.Append('\n').Append(signedHeaders).Append('\n').Append(Convert.ToHexStringLower(SHA256.HashData(payload))).ToString();
    }

    /// <summary>The <c>Authorization</c> header's value for the request.</summary>
    public static string Authorization(string method, Uri uri, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> payload,
        AwsCredentialSet credentials, string region, string service, DateTimeOffset signedAt)
    {
        var canonical = CanonicalRequest(method, uri, headers, payload, out var signedHeaders);
        var result = AWS4Signer.ComputeSignature(
            new ImmutableCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken),
            region, signedAt.UtcDateTime, service, signedHeaders, canonical);
        return result.ForAuthorizationHeader;
    }

    // Parameters sorted by name then value, each name and value in RFC 3986 encoding ("a=1&b=2").
    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
        {
            return "";
        }

        var pairs = query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p =>
        {
            var equals = p.IndexOf('=');
            var name = Uri.UnescapeDataString(equals < 0 ? p : p[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(p[(equals + 1)..]);
            return (Name: Uri.EscapeDataString(name), Value: Uri.EscapeDataString(value));
        });
        return string.Join('&', pairs.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => p.Name + "=" + p.Value));
    }
}
