namespace Gateway.Limiting;

/// <summary>The <c>Gateway:RateLimiting</c> section.</summary>
public sealed record RateLimitingOptions
{
    /// <summary>Named policies that clients refer to.</summary>
    public Dictionary<string, RateLimitPolicyOptions> Policies { get; init; } = [];

    /// <summary>How long a decision may wait for Redis before the policy's failure mode applies. Default 50 ms.</summary>
    public TimeSpan RedisTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

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
