using Gateway.Transforms.Headers;

namespace Gateway.Transforms.Passthrough;

/// <summary>One passthrough call, resolved once when it is admitted: the provider and its paths (what kind of call it is: see the CallRecord).</summary>
public sealed class PassthroughCall
{
    /// <summary>The provider serving the route's cluster.</summary>
    public required ProviderBinding Provider { get; init; }

    /// <summary>The route as configured.</summary>
    public required PassthroughRoute Route { get; init; }

    /// <summary>The decoded path below the route's prefix, as the allowlist judged it.</summary>
    public required string Path { get; init; }

    /// <summary>The path below the route's prefix as the caller wrote it (dot segments removed), as it is forwarded.</summary>
    public required string RawPath { get; init; }
}
