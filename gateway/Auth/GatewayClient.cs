using System.Collections.Frozen;

namespace Gateway.Auth;

/// <summary>A configured client: its id, key hash and scope (null sets mean "all").</summary>
public sealed record GatewayClient(string Id, byte[] KeyHash, FrozenSet<string>? Providers, FrozenSet<string>? Routes)
{
    public bool MayUseProvider(string provider) => Providers is null || Providers.Contains(provider);

    public bool MayUseRoute(string routeId) => Routes is null || Routes.Contains(routeId);
}

/// <summary>The authenticated caller of the current request.</summary>
public interface ICallerFeature
{
    GatewayClient Client { get; }
}

internal sealed record CallerFeature(GatewayClient Client) : ICallerFeature;
