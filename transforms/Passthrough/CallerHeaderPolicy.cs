using System.Collections.Frozen;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Passthrough;

/// <summary>
/// The caller headers no passthrough route forwards, whatever its configuration: any vendor's credentials (and the
/// generic ones), the headers that choose what the gateway's key bills, and the gateway's own <c>X-Gateway-</c> headers.
/// </summary>
public sealed class CallerHeaderPolicy
{
    private static readonly string[] GenericCredentials = ["Authorization", "Proxy-Authorization", "Cookie", "x-api-key", "api-key"];

    private readonly FrozenSet<string> _credentials;
    private readonly FrozenSet<string> _configuredOnly;

    public CallerHeaderPolicy(VendorCatalog vendors)
    {
        _credentials = vendors.CredentialHeaders.Concat(GenericCredentials).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _configuredOnly = vendors.ConfiguredOnlyHeaders.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The policy for the built-in vendors alone, for code that runs without a service provider (tools, tests).</summary>
    public static CallerHeaderPolicy Default { get; } = new(VendorCatalog.Default);

    /// <summary>Why a header can never be forwarded from a caller (null when it can).</summary>
    public string? NeverForwarded(string name)
    {
        if (_credentials.Contains(name))
        {
            return "carries a credential: callers' credentials never reach a vendor";
        }

        if (_configuredOnly.Contains(name))
        {
            return "chooses what the gateway's key bills: set it under Gateway:Providers:{name}:Headers (or per client), not from callers";
        }

        return name.StartsWith(GatewayHeaders.InternalPrefix, StringComparison.OrdinalIgnoreCase) ? "is the gateway's own" : null;
    }
}
