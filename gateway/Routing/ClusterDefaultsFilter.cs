using Gateway.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Routing;

/// <summary>
/// Gives every cluster that sets no <c>HttpRequest:ActivityTimeout</c> the gateway default (10 minutes), instead of
/// YARP's 100 seconds, which would cut off a long non-streamed generation.
/// </summary>
internal sealed class ClusterDefaultsFilter(GatewaySettingsMonitor settings) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (cluster.HttpRequest?.ActivityTimeout is { } timeout)
        {
            return timeout > TimeSpan.Zero
                ? ValueTask.FromResult(cluster)
                : throw new ArgumentException($"Cluster '{cluster.ClusterId}' HttpRequest:ActivityTimeout must be positive (was {timeout}).");
        }

        var request = (cluster.HttpRequest ?? new ForwarderRequestConfig()) with { ActivityTimeout = settings.Current.DefaultActivityTimeout };
        return ValueTask.FromResult(cluster with { HttpRequest = request });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        => ValueTask.FromResult(route);
}
