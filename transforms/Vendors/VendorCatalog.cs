using System.Collections.Frozen;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Transforms.Vendors;

/// <summary>The one place where vendors are registered.</summary>
public static class VendorCatalog
{
    /// <summary>Every vendor the gateway can talk to, by name (case-insensitive).</summary>
    public static FrozenDictionary<string, IVendorAdapter> All { get; } = new IVendorAdapter[]
    {
        new OpenAiVendor(),
        new AnthropicVendor(),
        new CohereVendor(),
    }.ToFrozenDictionary(v => v.Name, StringComparer.OrdinalIgnoreCase);
}
