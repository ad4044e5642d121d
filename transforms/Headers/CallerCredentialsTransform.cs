using System.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Headers;

/// <summary>
/// Removes every caller credential and every header that describes the internal network from the
/// outgoing request, so a vendor only ever sees the gateway's key and the gateway's own address.
/// </summary>
internal sealed class CallerCredentialsTransform : RequestTransform
{
    private readonly string[] _headers;

    public CallerCredentialsTransform(IEnumerable<string> credentialHeaders)
    {
        _headers = [.. StrippedHeaders.Always.Concat(credentialHeaders).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        foreach (var name in _headers)
        {
            headers.Remove(name);
        }

        RemoveByPrefix(headers);
        return ValueTask.CompletedTask;
    }

    private static void RemoveByPrefix(HttpRequestHeaders headers)
    {
        List<string>? found = null;
        foreach (var header in headers)
        {
            if (header.Key.StartsWith(StrippedHeaders.ForwardedPrefix, StringComparison.OrdinalIgnoreCase)
                || header.Key.StartsWith(StrippedHeaders.InternalPrefix, StringComparison.OrdinalIgnoreCase))
            {
                (found ??= []).Add(header.Key);
            }
        }

        if (found is null)
        {
            return;
        }

        foreach (var name in found)
        {
            headers.Remove(name);
        }
    }
}

/// <summary>Headers the gateway never forwards to a vendor.</summary>
public static class StrippedHeaders
{
    /// <summary>Every header starting with this (X-Forwarded-For, -Host, -Proto, -Prefix, …) is removed.</summary>
    public const string ForwardedPrefix = "X-Forwarded-";

    /// <summary>Headers meant for the gateway itself (e.g. x-gateway-user, the end user for rate limits) stay with it.</summary>
    public const string InternalPrefix = "X-Gateway-";

    /// <summary>Credentials and network-describing headers removed from every proxied request.</summary>
    public static readonly IReadOnlyList<string> Always =
    [
        "Authorization", "Proxy-Authorization", "x-api-key", "api-key", "Cookie",
        "Forwarded", "X-Real-IP", "X-Original-For", "X-Original-Host", "X-Client-IP", "Via",
    ];
}
