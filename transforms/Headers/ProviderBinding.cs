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

/// <summary>The outcome of looking up a provider's key.</summary>
/// <param name="Value">The key, or null when it could not be resolved.</param>
/// <param name="Problem">Why it could not be resolved (names the setting, never a secret).</param>
/// <param name="Index">Which of the provider's keys it is.</param>
public readonly record struct VendorKeyLookup(string? Value, string? Problem, int Index = 0);

/// <summary>Resolves vendor keys from the secret store.</summary>
public interface IVendorKeySource
{
    /// <summary>The key to use for the provider's next call.</summary>
    ValueTask<VendorKeyLookup> GetAsync(string provider, CancellationToken cancellationToken);

    /// <summary>
    /// The vendor refused <paramref name="used"/> (401): re-reads that key once (concurrent callers share the read) and
    /// answers whether another key is now available to retry with.
    /// </summary>
    Task<bool> RecoverAsync(string provider, VendorKeyLookup used, CancellationToken cancellationToken);
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

/// <summary>Set when the vendor answered 401: its body was held back so the host can retry or answer vendor_auth_failed.</summary>
/// <param name="KeyRejected">Whether the vendor said the key itself is invalid (see <see cref="Vendors.IVendorAdapter.RejectsKey"/>).</param>
public sealed record VendorAuthFailureFeature(string Provider, int Status, string? Message, bool KeyRejected);
