using Gateway.Hosting;

namespace Gateway.Resilience;

/// <summary>How vendor calls are retried (<c>Gateway:Resilience</c>).</summary>
public sealed record ResilienceOptions
{
    /// <summary>
    /// Whether vendor calls go through the pipeline at all. Default true; false forwards each call once — no retries,
    /// circuit breaker, fallback or first-byte deadline (each attempt keeps its cluster's own timeout), e.g. where a mesh
    /// retries already.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Retries of every provider that sets none of its own.</summary>
    public RetryOptions Retry { get; init; } = new();

    /// <summary>The circuit breaker of every provider that sets none of its own.</summary>
    public BreakerOptions Breaker { get; init; } = new();

    /// <summary>How long a call may take over all its attempts, backoffs and fallbacks.</summary>
    public DeadlineOptions Deadline { get; init; } = new();

    /// <summary>Per provider (a key of <c>Gateway:Providers</c>), settings in place of <see cref="Retry"/> and <see cref="Breaker"/>.</summary>
    public Dictionary<string, ProviderResilienceOptions> Providers { get; init; } = [];
}

/// <summary>
/// A call's deadline over all its attempts, backoffs and fallbacks: no first byte for the caller within
/// <see cref="FirstByte"/> is 504 vendor_timeout, and the vendor call is cancelled. Each attempt also has its
/// cluster's own silence timeout (<c>HttpRequest:ActivityTimeout</c>), which bounds a first attempt by itself when it is
/// no longer than the deadline: the deadline is then armed only for a further attempt, with the time left. A normalized
/// answer that is not streamed is written whole, so its first byte is its last (the deadline is armed at once for it).
/// </summary>
public sealed record DeadlineOptions
{
    /// <summary>Default 10 minutes (a long non-streamed generation sends nothing until it is done).</summary>
    public TimeSpan FirstByte { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>One provider's resilience settings.</summary>
public sealed record ProviderResilienceOptions
{
    public RetryOptions? Retry { get; init; }

    public BreakerOptions? Breaker { get; init; }
}

/// <summary>
/// A provider's circuit breaker: when at least <see cref="MinimumThroughput"/> attempts in <see cref="SamplingDuration"/>
/// failed at this <see cref="FailureRatio"/> or more (5xx, 529, unreachable or silent past its timeout; not 429), calls
/// stop going to it for <see cref="BreakDuration"/>: normalized calls go to the alias's fallbacks, passthrough calls get
/// 503 vendor_unavailable with the time left. Then one call probes it: success closes the breaker, failure re-opens it.
/// </summary>
public sealed record BreakerOptions
{
    /// <summary>Whether the breaker is on. Default true.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Share of failed attempts that opens it. Default 0.5.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Fewest attempts in the window before it may open. Default 5.</summary>
    public int MinimumThroughput { get; init; } = 5;

    /// <summary>The window attempts are counted in. Default 30 s.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long it stays open before a probe. Default 30 s.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Retries of a vendor call answered 429, 529, 500, 502, 503 or 504, or that could not reach the vendor — only while
/// nothing has reached the caller, and only for bodies the gateway holds (it buffers them up to the body limit).
/// </summary>
public sealed record RetryOptions
{
    /// <summary>Attempts after the first. Default 2; 0 turns retries off.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>The first backoff; each later one doubles, with jitter. Default 0.5 s.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest backoff the gateway chooses itself. Default 10 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The retry budget: each call to the provider earns this share of a retry, and a retry spends one, so that while
    /// the vendor fails retries add at most this share to its load (plus <see cref="BudgetMinimum"/>). Default 0.2.
    /// </summary>
    public double BudgetRatio { get; init; } = 0.2;

    /// <summary>Retries the budget holds at most (and starts with): a burst of failures may be retried this much beyond the ratio. Default 10.</summary>
    public int BudgetMinimum { get; init; } = 10;

    /// <summary>
    /// The longest wait a vendor may ask for (Retry-After, retry-after-ms, an exhausted limit's reset) that the gateway
    /// waits out before trying again; a vendor asking for more has its answer, and its wait, go to the caller at once.
    /// Default 30 s.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The resilience settings checked.</summary>
internal static class ResilienceSettingsValidator
{
    public static ResilienceSettings Build(ResilienceOptions options, IEnumerable<string> providers, List<string> errors)
    {
        var known = providers.ToHashSet(StringComparer.OrdinalIgnoreCase);
        Check(options.Retry, "Gateway:Resilience:Retry", errors);
        Check(options.Breaker, "Gateway:Resilience:Breaker", errors);
        if (options.Deadline.FirstByte <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Resilience:Deadline:FirstByte must be positive (was {options.Deadline.FirstByte}).");
        }

        var retries = new Dictionary<string, RetryOptions>(StringComparer.OrdinalIgnoreCase);
        var breakers = new Dictionary<string, BreakerOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, provider) in options.Providers)
        {
            if (!known.Contains(name))
            {
                errors.Add($"Gateway:Resilience:Providers:{name} names a provider that is not under Gateway:Providers (known: {string.Join(", ", known)}).");
                continue;
            }

            if (provider.Retry is { } retry)
            {
                Check(retry, $"Gateway:Resilience:Providers:{name}:Retry", errors);
                retries[name] = retry;
            }

            if (provider.Breaker is { } breaker)
            {
                Check(breaker, $"Gateway:Resilience:Providers:{name}:Breaker", errors);
                breakers[name] = breaker;
            }
        }

        return new ResilienceSettings(options.Enabled, options.Retry, retries, options.Breaker, breakers, options.Deadline);
    }

    private static void Check(BreakerOptions breaker, string setting, List<string> errors)
        => BreakerSettings.Check(breaker.FailureRatio, breaker.MinimumThroughput, breaker.SamplingDuration, breaker.BreakDuration, setting, errors);

    private static void Check(RetryOptions retry, string setting, List<string> errors)
    {
        if (retry.MaxRetries is < 0 or > 10)
        {
            errors.Add($"{setting}:MaxRetries must be from 0 to 10 (was {retry.MaxRetries}).");
        }

        if (retry.BaseDelay < TimeSpan.Zero || retry.MaxDelay < retry.BaseDelay)
        {
            errors.Add($"{setting}:BaseDelay must not be negative and :MaxDelay not below it (were {retry.BaseDelay} and {retry.MaxDelay}).");
        }

        if (retry.BudgetRatio is < 0 or > 1 || retry.BudgetMinimum < 0)
        {
            errors.Add($"{setting}:BudgetRatio must be from 0 to 1 and :BudgetMinimum not negative (were {retry.BudgetRatio} and {retry.BudgetMinimum}).");
        }

        if (retry.MaxRetryAfter < TimeSpan.Zero || retry.MaxRetryAfter > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{setting}:MaxRetryAfter must be from 0 to 00:10:00 (was {retry.MaxRetryAfter}).");
        }
    }
}

/// <summary>Validated resilience settings: the defaults and each provider's own.</summary>
public sealed record ResilienceSettings(
    bool Enabled, RetryOptions Retry, IReadOnlyDictionary<string, RetryOptions> Retries, BreakerOptions Breaker, IReadOnlyDictionary<string, BreakerOptions> Breakers,
    DeadlineOptions Deadline)
{
    public RetryOptions RetryFor(string provider) => Retries.TryGetValue(provider, out var own) ? own : Retry;

    public BreakerOptions BreakerFor(string provider) => Breakers.TryGetValue(provider, out var own) ? own : Breaker;
}
