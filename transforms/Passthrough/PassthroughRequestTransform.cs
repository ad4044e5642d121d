using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Passthrough;

/// <summary>
/// Builds a passthrough call's vendor request: only the headers on the route's allowlist are copied (minus any the
/// caller names in <c>Connection</c>, which are hop-by-hop by definition), and the path below the route's prefix is
/// forwarded as the caller wrote it.
/// </summary>
internal sealed class PassthroughRequestTransform : RequestTransform
{
    /// <summary>Sent in place of the caller's, which may name internal apps and hosts.</summary>
    public const string UserAgent = "ai-integration-gateway";

    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<PassthroughCall>() is not { } call)
        {
            return ValueTask.CompletedTask;
        }

        var allowlist = call.Route.HeadersFor(call.Provider.Vendor.Passthrough);
        var headers = http.Request.Headers;
        var connection = headers.Connection;
        foreach (var (name, value) in headers)
        {
            if (allowlist.Allows(name) && !NamedIn(connection, name))
            {
                AddHeader(context, name, value);
            }
        }

        context.ProxyRequest.Headers.TryAddWithoutValidation(HeaderNames.UserAgent, UserAgent);
        var prefix = context.DestinationPrefix.AsSpan().TrimEnd('/');
        context.ProxyRequest.RequestUri = new Uri(string.Concat(prefix, call.RawPath, context.Query.QueryString.Value), in Verbatim);
        return ValueTask.CompletedTask;
    }

    // RFC 9110 §7.6.1: a header named in Connection is meant for the next hop only.
    private static bool NamedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}

/// <summary>Keeps response headers that describe the vendor's servers or the gateway's vendor accounts away from callers.</summary>
internal sealed class PassthroughResponseHeadersTransform(Vendors.VendorCatalog vendors) : ResponseTransform
{
    // Every vendor's account headers, whichever vendor (or proxy in front of one) answers.
    private readonly string[] Dropped = [.. new[] { HeaderNames.SetCookie, HeaderNames.Server, "X-Powered-By" }
        .Concat(vendors.ResponseHeadersDropped).Distinct(StringComparer.OrdinalIgnoreCase)];

    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var headers = context.HttpContext.Response.Headers;
        foreach (var name in Dropped)
        {
            headers.Remove(name);
        }

        return ValueTask.CompletedTask;
    }
}
