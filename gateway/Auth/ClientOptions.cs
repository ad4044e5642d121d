namespace Gateway.Auth;

/// <summary>One gateway client (a calling app or team).</summary>
public sealed record ClientOptions
{
    /// <summary>Lowercase hex SHA-256 of the client's key; never the key itself. Shorthand for one key in <see cref="Keys"/> that never expires.</summary>
    public string? KeySha256 { get; init; }

    /// <summary>The client's keys, several during a rotation: each its hash, when it stops working, and a label for metrics.</summary>
    public ClientKeyOptions[] Keys { get; init; } = [];

    /// <summary>
    /// A secret reference to more keys (a mounted Kubernetes Secret, say): one per line, its hash, then optionally
    /// <c>notAfter=</c> an ISO 8601 time and <c>label=</c> a label; blank lines and lines starting with <c>#</c> skipped.
    /// </summary>
    public string? KeysFrom { get; init; }

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

    /// <summary>
    /// Per provider, a secret reference to the client's own vendor key, used for its calls in place of the provider's
    /// shared key (so its spend shows on its own key); the provider's shared key is never used for it instead.
    /// </summary>
    public Dictionary<string, string> ProviderKeys { get; init; } = [];
}

/// <summary>One of a client's keys.</summary>
public sealed record ClientKeyOptions
{
    /// <summary>Lowercase hex SHA-256 of the key.</summary>
    public string? Sha256 { get; init; }

    /// <summary>When the key stops working (401 <c>client_key_expired</c> from then on); absent means never.</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>The key's name in metrics and errors (letters, digits, '.', ':', '-', '_'); absent means <c>sha256:</c> and the hash's first 8 characters.</summary>
    public string? Label { get; init; }
}
