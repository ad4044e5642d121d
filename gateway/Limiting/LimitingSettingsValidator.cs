using Gateway.Hosting;
using Gateway.Transforms.Contracts;

namespace Gateway.Limiting;

/// <summary>The limiter's settings (<c>Gateway:RateLimiting</c>): its policies, Redis behaviour and headers.</summary>
internal static class LimitingSettingsValidator
{
    public static Dictionary<string, LimitPolicy> Policies(RateLimitingOptions options, List<string> errors, out LimiterClock clock)
    {
        var policies = new Dictionary<string, LimitPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, policy) in options.Policies)
        {
            var prefix = $"Gateway:RateLimiting:Policies:{name}";
            var before = errors.Count;
            if (policy.Requests is null && policy.Tokens is null)
            {
                errors.Add($"{prefix} limits nothing: set Requests and/or Tokens.");
            }

            if (policy.Requests is < 1)
            {
                errors.Add($"{prefix}:Requests must be at least 1 (was {policy.Requests}).");
            }

            if (policy.Tokens is < 1)
            {
                errors.Add($"{prefix}:Tokens must be at least 1 (was {policy.Tokens}).");
            }

            if (policy.Window < TimeSpan.FromSeconds(1) || policy.Window > TimeSpan.FromDays(1))
            {
                errors.Add($"{prefix}:Window must be from 00:00:01 to 1.00:00:00 (was {policy.Window}).");
            }

            var onFailure = ConfigEnum<RedisFailureMode>.Parse(policy.OnRedisFailure, $"{prefix}:OnRedisFailure", errors);
            if (errors.Count == before)
            {
                policies[name] = new LimitPolicy(name, policy.Requests, policy.Tokens, policy.Window, onFailure == RedisFailureMode.Open);
            }
        }

        if (options.RedisTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:RateLimiting:RedisTimeout must be positive (was {options.RedisTimeout}).");
        }

        if (options.SettleLinger < TimeSpan.Zero || options.SettleLinger > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Gateway:RateLimiting:SettleLinger must be between 0 and 1 s (was {options.SettleLinger}).");
        }

        var breaker = options.Breaker;
        BreakerSettings.Check(breaker.FailureRatio, breaker.MinimumThroughput, breaker.SamplingDuration, breaker.BreakDuration, "Gateway:RateLimiting:Breaker", errors);

        if (!options.SessionHeader.StartsWith(GatewayHeaders.InternalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Gateway:RateLimiting:SessionHeader must start with '{GatewayHeaders.InternalPrefix.ToLowerInvariant()}', so it never reaches a vendor (was '{options.SessionHeader}').");
        }

        if (options.ExpectedReplicas < 1)
        {
            errors.Add($"Gateway:RateLimiting:ExpectedReplicas must be at least 1 (was {options.ExpectedReplicas}).");
        }

        if (!options.UserHeader.StartsWith(GatewayHeaders.InternalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Gateway:RateLimiting:UserHeader must start with '{GatewayHeaders.InternalPrefix.ToLowerInvariant()}', so it never reaches a vendor (was '{options.UserHeader}').");
        }

        clock = ConfigEnum<LimiterClock>.Parse(options.Clock, "Gateway:RateLimiting:Clock", errors);
        return policies;
    }

    /// <summary>The policy a client setting names; null (with an error when it names an unknown one) when none.</summary>
    public static LimitPolicy? Policy(string? name, string setting, Dictionary<string, LimitPolicy> policies, List<string> errors)
    {
        if (name is null)
        {
            return null;
        }

        if (policies.TryGetValue(name, out var policy))
        {
            return policy;
        }

        errors.Add($"{setting} names policy '{name}', which is not under Gateway:RateLimiting:Policies (known: {string.Join(", ", policies.Keys)}).");
        return null;
    }
}
