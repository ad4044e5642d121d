namespace Gateway.Limiting;

/// <summary>
/// What admission decided for the current request, for the access log: set by <see cref="Admission"/>
/// (absent when admission did not run: a request refused earlier, or a route outside the proxy).
/// </summary>
public sealed class AdmissionFeature
{
    /// <summary>The client has no limit or budget: admission was skipped.</summary>
    public static readonly AdmissionFeature Unlimited = new("unlimited", []);

    private AdmissionFeature(string decision, IReadOnlyList<ScopeQuota> quotas)
    {
        Decision = decision;
        Quotas = quotas;
    }

    /// <summary><c>admitted</c>, <c>unlimited</c>, or <c>refused_requests</c> / <c>_tokens</c> / <c>_budget</c> / <c>_unavailable</c>.</summary>
    public string Decision { get; }

    /// <summary>What the admitting decision left in each scope.</summary>
    public IReadOnlyList<ScopeQuota> Quotas { get; }

    /// <summary>The fewest requests left in any scope that counts requests, or null when none does.</summary>
    public long? RequestsLeft => Least(static q => q.RequestsLeft);

    /// <summary>The fewest tokens left in any scope that counts tokens, or null when none does.</summary>
    public long? TokensLeft => Least(static q => q.TokensLeft);

    public static AdmissionFeature For(LimitDecision decision) => decision.Reason switch
    {
        null => new AdmissionFeature("admitted", decision.Quotas),
        LimitReason.Requests => Refused.Requests,
        LimitReason.Tokens => Refused.Tokens,
        LimitReason.Budget => Refused.Budget,
        _ => Refused.Unavailable,
    };

    private long? Least(Func<ScopeQuota, long?> left)
    {
        long? least = null;
        foreach (var quota in Quotas)
        {
            if (left(quota) is { } value)
            {
                least = Math.Max(Math.Min(least ?? value, value), 0);
            }
        }

        return least;
    }

    private static class Refused
    {
        public static readonly AdmissionFeature Requests = new("refused_requests", []);
        public static readonly AdmissionFeature Tokens = new("refused_tokens", []);
        public static readonly AdmissionFeature Budget = new("refused_budget", []);
        public static readonly AdmissionFeature Unavailable = new("refused_unavailable", []);
    }
}
