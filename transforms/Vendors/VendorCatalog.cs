using System.Collections.Frozen;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Transforms.Vendors;

/// <summary>
/// The vendors this gateway can talk to: every <see cref="IVendorAdapter"/> registered as a service (the built-in ones
/// by <see cref="TransformsServiceCollectionExtensions.AddVendorTransforms"/>, more by the host). Adding a vendor is its
/// folder under Vendors/ plus a provider entry in configuration naming it.
/// </summary>
public sealed class VendorCatalog
{
    private readonly FrozenDictionary<string, IVendorAdapter> _byName;

    public VendorCatalog(IEnumerable<IVendorAdapter> adapters)
    {
        var byName = new Dictionary<string, IVendorAdapter>(StringComparer.OrdinalIgnoreCase);
        foreach (var adapter in adapters)
        {
            if (!byName.TryAdd(adapter.Name, adapter) && byName[adapter.Name].GetType() != adapter.GetType())
            {
                throw new InvalidOperationException($"Two vendor adapters are named '{adapter.Name}': {byName[adapter.Name].GetType()} and {adapter.GetType()}.");
            }
        }

        _byName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        Names = [.. byName.Keys];
        CredentialHeaders = [.. _byName.Values.SelectMany(v => v.CredentialHeaders).Distinct(StringComparer.OrdinalIgnoreCase)];
        ConfiguredOnlyHeaders = [.. _byName.Values.SelectMany(v => v.Passthrough.ConfiguredOnlyHeaders).Distinct(StringComparer.OrdinalIgnoreCase)];
        ResponseHeadersDropped = [.. _byName.Values.SelectMany(v => v.Passthrough.ResponseHeadersDropped).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The vendors built into the library (OpenAI, Anthropic, Cohere).</summary>
    public static IReadOnlyList<IVendorAdapter> BuiltIn { get; } = [new OpenAiVendor(), new AnthropicVendor(), new CohereVendor()];

    /// <summary>A catalog of the built-in vendors alone, for code that runs without a service provider (tools, tests).</summary>
    public static VendorCatalog Default { get; } = new(BuiltIn);

    /// <summary>Vendor names, as configuration writes them, in the order the adapters were registered.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Every vendor's credential headers.</summary>
    public IReadOnlyList<string> CredentialHeaders { get; }

    /// <summary>Every vendor's headers that choose what the gateway's key bills.</summary>
    public IReadOnlyList<string> ConfiguredOnlyHeaders { get; }

    /// <summary>Every vendor's response headers that describe the gateway's accounts.</summary>
    public IReadOnlyList<string> ResponseHeadersDropped { get; }

    /// <summary>The adapter of the vendor so named (case-insensitive).</summary>
    public bool TryGet(string name, out IVendorAdapter adapter) => _byName.TryGetValue(name, out adapter!);
}
