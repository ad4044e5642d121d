using Gateway.Hosting;
using Gateway.Transforms.Headers;

namespace Gateway.Secrets;

/// <summary>Resolves a provider's key through its <c>Gateway:Providers:{name}:ApiKey</c> reference.</summary>
internal sealed class VendorKeySource(GatewaySettingsMonitor settings, ISecretStore secrets) : IVendorKeySource
{
    public async ValueTask<VendorKeyLookup> GetAsync(string provider, CancellationToken cancellationToken)
    {
        if (!settings.Current.Providers.TryGetValue(provider, out var entry))
        {
            return new VendorKeyLookup(null, $"Provider '{provider}' is not configured under Gateway:Providers.");
        }

        var secret = await secrets.GetAsync(entry.ApiKey, cancellationToken);
        return secret.Value is not null
            ? new VendorKeyLookup(secret.Value, null)
            : new VendorKeyLookup(null, $"{entry.Setting} refers to {entry.ApiKey}, but {secret.Error}.");
    }
}

/// <summary>Maps a YARP cluster to its provider: the cluster's <c>Provider</c> metadata, else the cluster id.</summary>
internal sealed class ProviderDirectory(GatewaySettingsMonitor settings) : IProviderDirectory
{
    public ProviderBinding? Find(string clusterId, IReadOnlyDictionary<string, string>? clusterMetadata)
    {
        var name = clusterMetadata is not null && clusterMetadata.TryGetValue(IProviderDirectory.ProviderMetadataKey, out var named) ? named : clusterId;
        return settings.Current.Providers.TryGetValue(name, out var provider) ? provider.Binding : null;
    }
}
