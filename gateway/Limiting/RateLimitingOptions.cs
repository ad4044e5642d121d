namespace Gateway.Limiting;

/// <summary>The <c>Gateway:RateLimiting</c> section.</summary>
public sealed record RateLimitingOptions
{
    /// <summary>Named policies that clients refer to.</summary>
    public Dictionary<string, RateLimitPolicyOptions> Policies { get; init; } = [];

    /// <summary>
    /// The longest a decision waits for Redis while Redis is reachable (the breaker is closed). Default 1 s: a busy
    /// replica's late answer is waited for, not mistaken for an outage; only the breaker decides Redis is down.
    /// </summary>
    public TimeSpan RedisTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a settlement may wait to go out to Redis with the client's next decision, in the same script call,
    /// rather than in a call of its own. Default 5 ms; 0 sends each at once. Nothing waits for it (the response has
    /// ended), and this replica's later decisions are ordered behind it. Read at start-up.
    /// </summary>
    public TimeSpan SettleLinger { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>When decisions stop asking Redis and apply each policy's failure mode. Read at start-up.</summary>
    public RedisBreakerOptions Breaker { get; init; } = new();

    /// <summary>Replicas expected to share the limits; a fail-open local limiter admits limit ÷ this. Default 3.</summary>
    public int ExpectedReplicas { get; init; } = 3;

    /// <summary>
    /// <c>redis</c> (default): decisions use Redis server time (TIME), so replica clocks do not matter. <c>local</c>:
    /// the gateway's own clock, for tests that control time.
    /// </summary>
    public string Clock { get; init; } = "redis";

    /// <summary>Prefix of every Redis key. Default <c>gw</c>.</summary>
    public string KeyPrefix { get; init; } = "gw";

    /// <summary>Output tokens reserved for a passthrough call, whose max_tokens the gateway does not read. Default 1024.</summary>
    public int PassthroughOutputReservation { get; init; } = 1024;

    /// <summary>Request header naming the end user on passthrough routes (normalized routes also read the <c>user</c> field).</summary>
    public string UserHeader { get; init; } = "x-gateway-user";

    /// <summary>Request header naming the caller's session, for per-session budgets.</summary>
    public string SessionHeader { get; init; } = "x-gateway-session";
}

/// <summary>
/// The circuit breaker in front of Redis: when at least <see cref="FailureRatio"/> of the decisions in
/// <see cref="SamplingDuration"/> (and at least <see cref="MinimumThroughput"/> of them) fail — connection failures,
/// answers later than RedisTimeout — it opens for <see cref="BreakDuration"/>: decisions apply the policies' failure
/// mode at once, without asking Redis. Then one probe decides whether it closes again.
/// </summary>
public sealed record RedisBreakerOptions
{
    /// <summary>Share of failed decisions that opens the breaker. Default 0.5.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Decisions in the sampling window before the breaker may open. Default 5.</summary>
    public int MinimumThroughput { get; init; } = 5;

    /// <summary>The window failures are counted in. Default 10 s.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the breaker stays open before a probe. Default 5 s.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>One named policy: requests and/or tokens per sliding window.</summary>
public sealed record RateLimitPolicyOptions
{
    /// <summary>Most requests admitted in any window; absent means no request limit.</summary>
    public int? Requests { get; init; }

    /// <summary>Most tokens (input + output) in any window; absent means no token limit.</summary>
    public long? Tokens { get; init; }

    /// <summary>The sliding window. Default one minute.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>When Redis is down or slow: <c>open</c> (default: a local limiter at limit ÷ ExpectedReplicas) or <c>closed</c> (503).</summary>
    public string OnRedisFailure { get; init; } = "open";
}

/// <summary>What a policy does while Redis cannot be reached (<c>OnRedisFailure</c>).</summary>
public enum RedisFailureMode
{
    /// <summary>Admit within a per-replica share of the limit (<c>open</c>, the default).</summary>
    Open,

    /// <summary>Refuse with 503 (<c>closed</c>).</summary>
    Closed,
}

/// <summary>Whose clock the shared windows run on (<c>Gateway:RateLimiting:Clock</c>).</summary>
public enum LimiterClock
{
    /// <summary>Redis's (<c>redis</c>, the default): replicas with skewed clocks still share one window.</summary>
    Redis,

    /// <summary>The replica's own (<c>local</c>): for tests on fake time.</summary>
    Local,
}
