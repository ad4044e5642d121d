using Gateway.Transforms;
using Gateway.Errors;
using Gateway.Hosting;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Tasks;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Model;

namespace Gateway.Auth;

/// <summary>
/// Runs in the proxy pipeline: 401 for a missing or unknown client key, 403 when the route or its provider is
/// outside the client's scope. The vendor is never called for either.
/// </summary>
internal sealed class CallerAuthenticationMiddleware(
    RequestDelegate next, ClientKeyAuthenticator authenticator, IProviderDirectory providers, ProblemWriter problems)
{
    public Task InvokeAsync(HttpContext context)
    {
        var client = authenticator.Authenticate(context.Request);
        if (client is null)
        {
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            return problems.WriteAsync(context, ErrorCodes.Unauthenticated,
                "Present a gateway client key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
        }

        var proxy = context.GetReverseProxyFeature();
        var routeId = proxy.Route.Config.RouteId;
        if (!client.MayUseRoute(routeId))
        {
            return problems.WriteAsync(context, ErrorCodes.Forbidden, $"Client '{client.Id}' may not use route '{routeId}'.");
        }

        // A task route's provider is known only once its body names the model; TaskRequestMiddleware checks it then.
        var cluster = TaskRoutes.TryGetTask(proxy.Route.Config.Metadata, out _) ? null : proxy.Cluster?.Config;
        var provider = cluster is null ? null : providers.Find(cluster.ClusterId, cluster.Metadata);
        if (provider is not null && !client.MayUseProvider(provider.Name))
        {
            return problems.WriteAsync(context, ErrorCodes.Forbidden, $"Client '{client.Id}' may not use provider '{provider.Name}'.");
        }

        context.Features.Set<ICallerFeature>(new CallerFeature(client));
        return next(context);
    }
}
