using Gateway.Hosting;
using Gateway.Resilience;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Tasks;
using Yarp.ReverseProxy;

namespace Gateway.Routing;

/// <summary>The fallbacks still to try for a normalized call, in the order its alias names them.</summary>
internal sealed class TaskFallbacks(IReadOnlyList<ModelRoute> routes)
{
    private int _next;

    public bool TryTake(out ModelRoute route)
    {
        route = _next < routes.Count ? routes[_next++] : null!;
        return route is not null;
    }
}

/// <summary>
/// Moves a normalized call to its alias's next fallback whose provider is available and in the client's scope: the
/// task planner re-targets the same internal request at it, and the call goes to that provider's cluster with the new
/// vendor body and a record of its own. Passthrough calls have no fallback: they are the caller's vendor's API.
/// </summary>
internal sealed class TaskCallFallback(IProxyStateLookup proxy, GatewaySettingsMonitor settings) : ICallFallback
{
    public string? MoveToNext(HttpContext context, Func<string, bool> unavailable)
    {
        if (context.Features.Get<TaskCall>() is not { } call || context.Features.Get<TaskFallbacks>() is not { } fallbacks)
        {
            return null;
        }

        var client = context.GetGatewayCall()?.Client;
        while (fallbacks.TryTake(out var route))
        {
            var provider = route.Provider.Binding.Name;
            if (unavailable(provider) || client?.MayUseProvider(provider) == false || ProviderClusters.Find(proxy, provider) is not { } cluster)
            {
                continue;
            }

            // An OpenAI-compatible call goes only where all of it is carried (a seed is not dropped by a fallback).
            if ((call.Task == TaskKind.Chat && (!ChatCompletionsRequestReader.Fits(call.Request, provider, route.Provider.Binding.Vendor)
                    || (call.Request.Temperature is not null && !route.AcceptsTemperature)))
                || (call.Task == TaskKind.Embeddings && route.Provider.Binding.Vendor.EmbeddingsPath is null))
            {
                continue;
            }

            var next = call.RetargetTo(route.Target(settings.Current.Prices));
            context.Features.Set(next);
            context.CallStateOrNew().Record = next.Record;
            context.ReassignProxyRequest(cluster);
            context.Request.Body = new MemoryStream(next.VendorBody, writable: false);
            context.Request.ContentLength = next.VendorBody.Length;
            return provider;
        }

        return null;
    }
}
