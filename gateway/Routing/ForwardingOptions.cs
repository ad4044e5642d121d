namespace Gateway.Routing;

/// <summary>Request limits.</summary>
public sealed record LimitsOptions
{
    /// <summary>Largest request body accepted, in bytes. Default 10 MiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10 * 1024 * 1024;
}

/// <summary>Forwarding defaults applied to every cluster that does not set its own.</summary>
public sealed record ForwardingOptions
{
    /// <summary>
    /// How long a vendor call may stay silent (no headers, no body bytes) before it is cut with 504 vendor_timeout.
    /// Default 10 minutes: a long non-streamed generation sends nothing until it is done.
    /// </summary>
    public TimeSpan DefaultActivityTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether a ReverseProxy change that leaves no route at all is applied. Default false: such a change (an emptied
    /// file, a deleted section) is refused, because it would take the whole gateway down.
    /// </summary>
    public bool AllowNoRoutes { get; init; }
}

/// <summary>Request limits and forwarding defaults (<c>Gateway:Limits</c>, <c>Gateway:Forwarding</c>).</summary>
internal static class ForwardingSettingsValidator
{
    public static void Validate(LimitsOptions limits, ForwardingOptions forwarding, List<string> errors)
    {
        if (limits.MaxRequestBodyBytes <= 0)
        {
            errors.Add($"Gateway:Limits:MaxRequestBodyBytes must be greater than 0 (was {limits.MaxRequestBodyBytes}).");
        }

        if (forwarding.DefaultActivityTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Forwarding:DefaultActivityTimeout must be positive (was {forwarding.DefaultActivityTimeout}).");
        }
    }
}
