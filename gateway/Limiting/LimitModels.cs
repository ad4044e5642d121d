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

/// <summary>A daily cost cap a decision checks: the client's, an end user's or a session's.</summary>
/// <param name="Key">Unique within the client: <c>budget</c>, <c>budget:user:u-17</c>, <c>budget:session:s-9</c>.</param>
/// <param name="CapMicros">The cap per UTC day, in millionths of a USD.</param>
public sealed record BudgetScope(string Key, long CapMicros)
{
    public const string ClientKey = "budget";

    /// <summary>The same cap ÷ <paramref name="replicas"/>, for a fail-open local limiter.</summary>
    public BudgetScope Share(int replicas) => this with { CapMicros = CapMicros / replicas };
}

/// <summary>What one request asks of the limiter.</summary>
/// <param name="ClientId">The client; every key of the decision is under it (one Redis Cluster slot).</param>
/// <param name="Scopes">The counters to check, all or nothing.</param>
/// <param name="Tokens">Tokens to reserve (estimated input + max output).</param>
/// <param name="CostMicros">Cost to reserve, in millionths of a USD.</param>
/// <param name="Budgets">The daily caps to check, all or nothing with the scopes.</param>
public sealed record AdmissionRequest(string ClientId, LimitScope[] Scopes, long Tokens, long CostMicros, BudgetScope[] Budgets)
{
    private static readonly string Replica = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
    private static long _sequence;

    /// <summary>The reservation's number in this process (the in-process store's key).</summary>
    public long Sequence { get; } = Interlocked.Increment(ref _sequence);

    /// <summary>
    /// The reservation's id, unique across replicas: a decision whose answer never came back is released by it, so a
    /// timed-out decision is never counted in Redis and admitted elsewhere as well. Made when first asked for (only
    /// the Redis store needs it); a copy made with <c>with</c> keeps it.
    /// </summary>
    public string Id => field ??= Replica + Sequence.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What was reserved for an admitted request, to settle when it ends.</summary>
public sealed record Lease(AdmissionRequest Request, long Day, ILimiterStore Store);

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
/// <param name="Scope">The scope that refused (requests, tokens, or the first of a closed policy), when one did.</param>
/// <param name="Budget">The budget that refused, when one did.</param>
public sealed record LimitDecision(Lease? Lease, LimitReason? Reason, LimitScope? Scope, TimeSpan RetryAfter, IReadOnlyList<ScopeQuota> Quotas, BudgetScope? Budget = null)
{
    public bool Admitted => Lease is not null;

    public static LimitDecision Refused(LimitReason reason, LimitScope? scope, TimeSpan retryAfter, BudgetScope? budget = null)
        => new(null, reason, scope, retryAfter, [], budget);
}

/// <summary>Where the counters live: Redis (shared by all replicas) or this process.</summary>
public interface ILimiterStore
{
    /// <summary>Checks every scope and budget, and reserves in all of them only if all admit, atomically.</summary>
    ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>Replaces the reservation with what was used.</summary>
    ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken);

    /// <summary>Undoes a reservation whose decision was never seen (its answer timed out); a no-op when nothing was reserved.</summary>
    ValueTask ReleaseAsync(AdmissionRequest request, CancellationToken cancellationToken);
}
