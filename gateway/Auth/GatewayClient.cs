using System.Collections.Frozen;
using Gateway.Limiting;
using Gateway.Secrets;

namespace Gateway.Auth;

/// <summary>A configured client: its id, keys, scope (null sets mean "all") and limits.</summary>
public sealed record GatewayClient(string Id, IReadOnlyList<ClientKey> Keys, FrozenSet<string>? Providers, FrozenSet<string>? Routes)
{
    /// <summary>A secret reference listing more of the client's keys (<see cref="ClientOptions.KeysFrom"/>).</summary>
    public SecretReference? KeysFrom { get; init; }

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

    /// <summary>Per provider, the client's own vendor key (a secret reference), used in place of the provider's.</summary>
    public FrozenDictionary<string, SecretReference>? ProviderKeys { get; init; }

    /// <summary>True when no limit or budget applies, so admission can be skipped.</summary>
    public bool Unlimited => RateLimit is null && ModelRateLimit is null && UserRateLimit is null && DailyBudgetMicros is null
        && UserDailyBudgetMicros is null && SessionDailyBudgetMicros is null;

    public bool MayUseProvider(string provider) => Providers is null || Providers.Contains(provider);

    public bool MayUseRoute(string routeId) => Routes is null || Routes.Contains(routeId);
}

/// <summary>
/// One of a client's keys: its hash, when it stops working, and its label (metrics and errors name the label, never the
/// key). Remembers when it was last presented, for the last-used gauge.
/// </summary>
public sealed class ClientKey(byte[] hash, DateTimeOffset? notAfter, string label)
{
    private long _lastUsed;

    public byte[] Hash { get; } = hash;

    public DateTimeOffset? NotAfter { get; } = notAfter;

    public string Label { get; } = label;

    /// <summary>Unix seconds of the last request that presented the key, or 0.</summary>
    public long LastUsed
    {
        get => Volatile.Read(ref _lastUsed);
        set => Volatile.Write(ref _lastUsed, value);
    }

    public bool ExpiredAt(DateTimeOffset now) => NotAfter <= now;
}
