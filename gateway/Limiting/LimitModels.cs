namespace Gateway.Limiting;

/// <summary>A validated policy.</summary>
public sealed record LimitPolicy(string Name, int? Requests, long? Tokens, TimeSpan Window, bool FailOpen)
{
    /// <summary>The same policy at limit ÷ <paramref name="replicas"/> (rounded up), for a fail-open local limiter.</summary>
    public LimitPolicy Share(int replicas) => this with
    {
        Requests = Requests is { } r ? (int)Math.Ceiling(r / (double)replicas) : null,
        Tokens = Tokens is { } t ? (long)Math.Ceiling(t / (double)replicas) : null,
    };
}

/// <summary>One counter a decision checks: a policy applied to a subject (the client, client × model, client × user).</summary>
/// <param name="Key">Unique within the client, e.g. <c>client</c>, <c>model:gpt-6-luna</c>, <c>user:u-17</c>.</param>
public sealed record LimitScope(string Key, LimitPolicy Policy);

/// <summary>What one request asks of the limiter.</summary>
/// <param name="ClientId">The client; every key of the decision is under it (one Redis Cluster slot).</param>
/// <param name="Scopes">The counters to check, all or nothing.</param>
/// <param name="Tokens">Tokens to reserve (estimated input + max output).</param>
/// <param name="CostMicros">Cost to reserve, in millionths of a USD.</param>
/// <param name="DailyBudgetMicros">The client's daily cap, in millionths of a USD; null for none.</param>
public sealed record AdmissionRequest(string ClientId, IReadOnlyList<LimitScope> Scopes, long Tokens, long CostMicros, long? DailyBudgetMicros);

/// <summary>What was reserved for an admitted request, to settle when it ends.</summary>
public sealed record Lease(AdmissionRequest Request, string Member, long Day, ILimiterStore Store);

/// <summary>Why a request was refused.</summary>
public enum LimitReason
{
    Requests = 1,
    Tokens = 2,
    Budget = 3,
    Unavailable = 4,
}

/// <summary>The remaining quota of one scope after a decision.</summary>
public readonly record struct ScopeQuota(LimitScope Scope, long? RequestsLeft, long? TokensLeft, TimeSpan Reset);

/// <summary>A limiter decision.</summary>
public sealed record LimitDecision(Lease? Lease, LimitReason? Reason, LimitScope? Scope, TimeSpan RetryAfter, IReadOnlyList<ScopeQuota> Quotas)
{
    public bool Admitted => Lease is not null;
}

/// <summary>Where the counters live: Redis (shared by all replicas) or this process.</summary>
public interface ILimiterStore
{
    /// <summary>Checks every scope and the budget, and reserves in all of them only if all admit, atomically.</summary>
    ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>Replaces the reservation with what was used.</summary>
    ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken);
}
