using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Headers;

/// <summary>A configured provider: its name (the key under <c>Gateway:Providers</c>) and the vendor API it speaks.</summary>
public sealed record ProviderBinding(string Name, IVendorAdapter Vendor);

/// <summary>Finds the provider that serves a YARP cluster.</summary>
public interface IProviderDirectory
{
    /// <summary>The metadata key on a cluster that names its provider; without it the cluster id is the provider name.</summary>
    public const string ProviderMetadataKey = "Provider";

    /// <summary>The provider bound to the cluster, or null when none is configured.</summary>
    ProviderBinding? Find(string clusterId, IReadOnlyDictionary<string, string>? clusterMetadata);
}

/// <summary>The outcome of looking up a provider's key.</summary>
/// <param name="Value">The key, or null when it could not be resolved.</param>
/// <param name="Problem">Why it could not be resolved (names the setting, never a secret).</param>
public readonly record struct VendorKeyLookup(string? Value, string? Problem);

/// <summary>Resolves vendor keys from the secret store.</summary>
public interface IVendorKeySource
{
    /// <summary>The current key of the provider.</summary>
    ValueTask<VendorKeyLookup> GetAsync(string provider, CancellationToken cancellationToken);
}
