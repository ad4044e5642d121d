using Gateway.Errors;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Tasks;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// On passthrough routes: resolves the call once (provider, path below the route's prefix as judged and as forwarded,
/// GenAI operation), checks the provider is in the client's scope, and forwards only what the route's allowlist names —
/// 403 for a provider or a path outside it, 405 for a method it does not allow there — before the body is read or
/// anything is counted. The call's record (for limiting and telemetry) is set here, and the response is tapped for the
/// vendor's usage.
/// </summary>
internal sealed class PassthroughPolicyMiddleware(RequestDelegate next, IProviderDirectory providers, CallerHeaderPolicy headerPolicy, GatewaySettingsMonitor settings,
    ProviderSwitches switches, ProblemWriter problems)
{
    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        // A task route's provider is known only once its body names the model; TaskRequestMiddleware checks it then.
        var cluster = TaskRoutes.TryGetTask(proxy.Route.Config.Metadata, out _) ? null : proxy.Cluster?.Config;
        var provider = cluster is null ? null : providers.Find(cluster.ClusterId, cluster.Metadata);
        if (provider is not null && context.GetGatewayCall() is { } caller && !caller.Client.MayUseProvider(provider.Name))
        {
            return problems.WriteAsync(context, ErrorCodes.Forbidden, $"Client '{caller.Client.Id}' may not use provider '{provider.Name}'.");
        }

        if (provider is null || PassthroughRoute.For(proxy.Route.Config, headerPolicy) is not { } route)
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
        => settings.Current.Providers.TryGetValue(provider.Name, out var configured) && configured.OffFlag is not null
            ? ForwardUnlessOffAsync(context, route, provider, path, configured)
            : ResolvedAsync(context, route, provider, path);

    // A provider with a kill switch: while it is on, passthrough calls to it are answered without calling it.
    private async Task ForwardUnlessOffAsync(HttpContext context, PassthroughRoute route, ProviderBinding provider, string path, Hosting.ProviderSettings configured)
    {
        if (await switches.IsOffAsync(configured))
        {
            await problems.WriteAsync(context, ErrorCodes.VendorCircuitOpen, $"Provider '{provider.Name}' is switched off (its kill-switch flag '{configured.OffFlag}' is on).");
            return;
        }

        await ResolvedAsync(context, route, provider, path);
    }

    private Task ResolvedAsync(HttpContext context, PassthroughRoute route, ProviderBinding provider, string path)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        if (!PassthroughPath.TryGetBelow(target, route.PrefixSegments, out var rawPath, out var error))
        {
            return problems.WriteAsync(context, ErrorCodes.BadRequest, error!);
        }

        var operation = provider.Vendor.PassthroughOperation(context.Request.Method, path);
        context.Features.Set(new PassthroughCall
        {
            Provider = provider,
            Route = route,
            Path = path,
            RawPath = rawPath,
        });
        // The estimate is left to limiting (the body's size, its default output reservation): a passthrough body is the
        // caller's to write. The model is read once the body is buffered (TaskRequestMiddleware).
        var record = new CallRecord { Provider = provider.Name, Operation = operation, LimitModel = provider.Name };
        context.CallStateOrNew().Record = record;
        context.Response.Body = new UsageTapStream(context.Response.Body, context.Response, provider.Vendor, record.Outcome);
        return next(context);
    }
}
