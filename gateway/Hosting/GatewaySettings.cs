using System.Collections.Frozen;
using Gateway.Auth;
using Gateway.Secrets;
using Gateway.Transforms.Headers;

namespace Gateway.Hosting;

/// <summary>A validated, immutable snapshot of the <c>Gateway</c> section, swapped whole on reload.</summary>
public sealed class GatewaySettings
{
    public required string ServiceName { get; init; }

    public required string Environment { get; init; }

    public required long MaxRequestBodyBytes { get; init; }

    public required TimeSpan DefaultActivityTimeout { get; init; }

    public required TimeSpan FileRefreshInterval { get; init; }

    public required FrozenDictionary<string, ProviderSettings> Providers { get; init; }

    public required GatewayClient[] Clients { get; init; }
}

/// <summary>A provider with its vendor and parsed key reference.</summary>
public sealed record ProviderSettings(ProviderBinding Binding, SecretReference ApiKey)
{
    /// <summary>The configuration key that holds the reference, for error messages.</summary>
    public string Setting => $"Gateway:Providers:{Binding.Name}:ApiKey";
}
