using Microsoft.AspNetCore.Http;
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

/// <summary>
/// Headers configuration sets on every call to a provider — e.g. the organization and project its key bills — for
/// the current caller (a client's own values over the provider's).
/// </summary>
public interface IProviderRequestHeaders
{
    /// <summary>The headers to send; empty when none are configured.</summary>
    IReadOnlyList<KeyValuePair<string, string>> For(HttpContext context, string provider);
}

/// <summary>The key a request was sent with, for recovery after a vendor 401.</summary>
public sealed record VendorKeyFeature(string Provider, IVendorAdapter Vendor, VendorKeyLookup Key);
