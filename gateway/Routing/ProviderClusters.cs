using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>The YARP cluster serving a provider: the one named after it, else the first bound to it by metadata.</summary>
internal static class ProviderClusters
{
    public static ClusterState? Find(IProxyStateLookup proxy, string provider)
    {
        if (proxy.TryGetCluster(provider, out var named) && Bound(named, provider))
        {
            return named;
        }

        foreach (var cluster in proxy.GetClusters())
        {
            if (Bound(cluster, provider))
            {
                return cluster;
            }
        }

        return null;
    }

    private static bool Bound(ClusterState cluster, string provider)
    {
        var config = cluster.Model.Config;
        return string.Equals(ProviderDirectory.ProviderName(config.ClusterId, config.Metadata), provider, StringComparison.OrdinalIgnoreCase);
    }
}
