using Gateway.Hosting;
using Gateway.Transforms.Headers;

namespace Gateway.Routing;

/// <summary>Maps a YARP cluster to its provider: the cluster's <c>Provider</c> metadata, else the cluster id.</summary>
internal sealed class ProviderDirectory(GatewaySettingsMonitor settings) : IProviderDirectory
{
    public ProviderBinding? Find(string clusterId, IReadOnlyDictionary<string, string>? clusterMetadata)
        => settings.Current.Providers.TryGetValue(ProviderName(clusterId, clusterMetadata), out var provider) ? provider.Binding : null;

    /// <summary>The name of the provider a cluster serves (the one rule, for lookups both ways).</summary>
    public static string ProviderName(string clusterId, IReadOnlyDictionary<string, string>? clusterMetadata)
        => clusterMetadata is not null && clusterMetadata.TryGetValue(IProviderDirectory.ProviderMetadataKey, out var named) ? named : clusterId;
}
