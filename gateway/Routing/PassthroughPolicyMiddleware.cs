using Gateway.Errors;
using Gateway.Transforms;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Passthrough;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// On passthrough routes: resolves the call once (provider, path below the route's prefix as judged and as forwarded,
/// GenAI operation) and forwards only what the route's allowlist names — 403 for a path it does not cover, 405 for a
/// method it does not allow there — before the body is read or anything is counted.
/// </summary>
internal sealed class PassthroughPolicyMiddleware(RequestDelegate next, IProviderDirectory providers, ProblemWriter problems)
{
    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        if (PassthroughRoute.For(proxy.Route.Config) is not { } route || proxy.Cluster?.Config is not { } cluster
            || providers.Find(cluster.ClusterId, cluster.Metadata) is not { } provider)
        {
            // Task routes, and clusters bound to no provider (the key transform answers vendor_key_missing for those).
            return next(context);
        }

        var request = context.Request;
        var path = route.PathBelow(request.Path);
        var routeId = proxy.Route.Config.RouteId;
        var rules = route.RulesFor(provider.Vendor.Passthrough);
        string? allowed = null;
        foreach (var rule in rules)
        {
            if (rule.Covers(request.Method, path))
            {
                return ForwardAsync(context, route, provider, path);
            }

            if (rule.CoversPath(path))
            {
                allowed = allowed is null ? rule.Method : allowed + ", " + rule.Method;
            }
        }

        if (allowed is not null)
        {
            context.Response.Headers.Allow = allowed;
            return problems.WriteAsync(context, ErrorCodes.MethodNotAllowed,
                $"Route '{routeId}' forwards {allowed} {path}, not {request.Method}.");
        }

        return problems.WriteAsync(context, ErrorCodes.Forbidden,
            $"Route '{routeId}' does not forward {request.Method} {path}. It forwards: {string.Join(", ", rules)}. "
            + $"The platform team can allow more with the route's Metadata '{PassthroughRoute.AllowMetadataKey}'.");
    }

    private Task ForwardAsync(HttpContext context, PassthroughRoute route, ProviderBinding provider, string path)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        if (!PassthroughPath.TryGetBelow(target, route.PrefixSegments, out var rawPath, out var error))
        {
            return problems.WriteAsync(context, ErrorCodes.BadRequest, error!);
        }

        context.Features.Set(new PassthroughCall
        {
            Provider = provider,
            Route = route,
            Path = path,
            RawPath = rawPath,
            Operation = provider.Vendor.PassthroughOperation(context.Request.Method, path),
        });
        return next(context);
    }
}
