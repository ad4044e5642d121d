namespace Gateway.Transforms.Vendors;

/// <summary>
/// What a vendor's passthrough routes may carry by default: which calls (method and path), which request headers of
/// the vendor's API a caller may send, which ones only configuration may set, and which response headers stay with
/// the gateway.
/// </summary>
/// <param name="DefaultRules">Calls forwarded when a route names none: model calls, embeddings, models, token counting.</param>
/// <param name="RequestHeaders">Request headers the vendor's API defines and a caller may send (case-insensitive names).</param>
/// <param name="RequestHeaderPrefixes">Name prefixes of such headers (e.g. the SDKs' <c>x-stainless-</c> telemetry).</param>
/// <param name="ConfiguredOnlyHeaders">Headers that choose what the gateway's key bills (organization, project): set from configuration, never by a caller.</param>
/// <param name="ResponseHeadersDropped">Vendor response headers that describe the gateway's account and do not reach callers.</param>
public sealed record PassthroughProfile(
    IReadOnlyList<PassthroughRule> DefaultRules,
    IReadOnlyList<string> RequestHeaders,
    IReadOnlyList<string> RequestHeaderPrefixes,
    IReadOnlyList<string> ConfiguredOnlyHeaders,
    IReadOnlyList<string> ResponseHeadersDropped);

/// <summary>
/// One call a passthrough route forwards: a method and a path below the route's prefix, written
/// <c>POST /v1/chat/completions</c> (that path exactly) or <c>GET /v1/models/**</c> (that path and everything below it).
/// </summary>
public sealed record PassthroughRule(string Method, string Path, bool AndBelow)
{
    /// <summary>Methods a rule may name; TRACE and CONNECT are never forwarded.</summary>
    public static readonly IReadOnlyList<string> Methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    /// <summary>Whether the rule covers this (decoded, below-the-prefix) path, whatever the method.</summary>
    public bool CoversPath(string path)
    {
        if (!AndBelow)
        {
            return string.Equals(path, Path, StringComparison.OrdinalIgnoreCase);
        }

        return path.StartsWith(Path, StringComparison.OrdinalIgnoreCase) && (path.Length == Path.Length || path[Path.Length] == '/');
    }

    public bool Covers(string method, string path) => string.Equals(method, Method, StringComparison.OrdinalIgnoreCase) && CoversPath(path);

    public override string ToString() => $"{Method} {Path}{(AndBelow ? "/**" : "")}";

    /// <summary>Parses <c>METHOD /path</c> or <c>METHOD /path/**</c>; null with the reason when it is not one.</summary>
    public static PassthroughRule? Parse(string text, out string? error)
    {
        error = null;
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !parts[1].StartsWith('/'))
        {
            error = $"'{text.Trim()}' is not a rule: write METHOD /path (that path) or METHOD /path/** (that path and below)";
            return null;
        }

        var method = parts[0].ToUpperInvariant();
        if (!Methods.Contains(method))
        {
            error = $"'{text.Trim()}' names method {parts[0]}: use one of {string.Join(", ", Methods)} (TRACE and CONNECT are never forwarded)";
            return null;
        }

        var path = parts[1];
        var below = path.EndsWith("/**", StringComparison.Ordinal);
        if (below)
        {
            path = path[..^3];
        }

        if (path.Contains('*') || path.Contains('%') || path.Contains("/../", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal)
            || (path.Length > 1 && path.EndsWith('/')))
        {
            error = $"'{text.Trim()}' has a path that is not plain: no wildcards but a final /**, no escapes, no dot segments, no trailing slash";
            return null;
        }

        return new PassthroughRule(method, path.Length == 0 ? "/" : path, below);
    }

    /// <summary>Rules written one per line in code, for the vendors' defaults.</summary>
    public static IReadOnlyList<PassthroughRule> List(params string[] rules)
        => [.. rules.Select(r => Parse(r, out var error) ?? throw new ArgumentException(error, nameof(rules)))];
}
