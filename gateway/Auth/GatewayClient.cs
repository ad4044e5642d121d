using System.Collections.Frozen;
using Gateway.Limiting;

namespace Gateway.Auth;

/// <summary>A configured client: its id, key hash, scope (null sets mean "all") and limits.</summary>
public sealed record GatewayClient(string Id, byte[] KeyHash, FrozenSet<string>? Providers, FrozenSet<string>? Routes)
{
    public LimitPolicy? RateLimit { get; init; }

    public LimitPolicy? ModelRateLimit { get; init; }

    public LimitPolicy? UserRateLimit { get; init; }

    /// <summary>Daily cost cap in millionths of a USD.</summary>
    public long? DailyBudgetMicros { get; init; }

    /// <summary>Daily cost cap of each end user of the client, in millionths of a USD.</summary>
    public long? UserDailyBudgetMicros { get; init; }

    /// <summary>Daily cost cap of each session of the client, in millionths of a USD.</summary>
    public long? SessionDailyBudgetMicros { get; init; }

    /// <summary>Per provider, headers sent on this client's calls in place of the provider's own.</summary>
    public FrozenDictionary<string, IReadOnlyList<KeyValuePair<string, string>>>? ProviderHeaders { get; init; }

    /// <summary>True when no limit or budget applies, so admission can be skipped.</summary>
    public bool Unlimited => RateLimit is null && ModelRateLimit is null && UserRateLimit is null && DailyBudgetMicros is null
        && UserDailyBudgetMicros is null && SessionDailyBudgetMicros is null;

    public bool MayUseProvider(string provider) => Providers is null || Providers.Contains(provider);

    public bool MayUseRoute(string routeId) => Routes is null || Routes.Contains(routeId);
}

/// <summary>The authenticated caller of the current request.</summary>
public interface ICallerFeature
{
    GatewayClient Client { get; }
}

internal sealed record CallerFeature(GatewayClient Client) : ICallerFeature;
