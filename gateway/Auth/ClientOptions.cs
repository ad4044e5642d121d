namespace Gateway.Auth;

/// <summary>One gateway client (a calling app or team).</summary>
public sealed record ClientOptions
{
    /// <summary>Lowercase hex SHA-256 of the client's key; never the key itself.</summary>
    public string? KeySha256 { get; init; }

    /// <summary>Providers the client may use; absent means all.</summary>
    public string[]? Providers { get; init; }

    /// <summary>Route ids the client may use; absent means all.</summary>
    public string[]? Routes { get; init; }

    /// <summary>The policy (under <c>Gateway:RateLimiting:Policies</c>) limiting the client as a whole.</summary>
    public string? RateLimitPolicy { get; init; }

    /// <summary>A policy applied per client × model (normalized routes) or × provider (passthrough routes).</summary>
    public string? ModelRateLimitPolicy { get; init; }

    /// <summary>A policy applied per client × end user (the <c>user</c> field, or the user header on passthrough routes).</summary>
    public string? UserRateLimitPolicy { get; init; }

    /// <summary>Cost cap in USD per UTC day, from the price table; absent means none.</summary>
    public decimal? DailyBudgetUsd { get; init; }

    /// <summary>Cost cap in USD per UTC day of each end user (the <c>user</c> field or the user header); absent means none.</summary>
    public decimal? UserDailyBudgetUsd { get; init; }

    /// <summary>Cost cap in USD per UTC day of each session (the session header); absent means none.</summary>
    public decimal? SessionDailyBudgetUsd { get; init; }

    /// <summary>Per provider, headers sent on this client's calls in place of the provider's (e.g. its own <c>OpenAI-Project</c>).</summary>
    public Dictionary<string, Dictionary<string, string>> ProviderHeaders { get; init; } = [];
}
