using System.Net.Http.Headers;

namespace Gateway.Transforms.Vendors;

/// <summary>What the gateway knows about one vendor's HTTP API. One implementation per folder under Vendors/.</summary>
public interface IVendorAdapter
{
    /// <summary>The vendor's name as written in configuration (<c>Gateway:Providers:{name}:Vendor</c>).</summary>
    string Name { get; }

    /// <summary>Request headers that carry a credential for this vendor; they are removed from every caller request.</summary>
    IReadOnlyList<string> CredentialHeaders { get; }

    /// <summary>Puts the vendor key on the outgoing request in the vendor's own scheme, plus any header the vendor requires.</summary>
    void ApplyCredentials(HttpRequestHeaders headers, string apiKey);
}
