namespace Gateway.Routing;

/// <summary>One vendor provider.</summary>
public sealed record ProviderOptions
{
    /// <summary>The vendor API it speaks (openai, anthropic, cohere). Default: the provider's name.</summary>
    public string? Vendor { get; init; }

    /// <summary>A secret reference (<c>env:NAME</c>, <c>file:/path</c>, <c>vault:mount/path#field</c>). Default <c>env:{NAME}_API_KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Several keys (references), e.g. the old and the new during a rotation; replaces <see cref="ApiKey"/>.</summary>
    public string[]? ApiKeys { get; init; }

    /// <summary>With several keys: <c>failover</c> (default: the first that works) or <c>round-robin</c> (see <see cref="Secrets.KeySelection"/>).</summary>
    public string KeySelection { get; init; } = "failover";

    /// <summary>Headers sent on every call to this provider, e.g. <c>OpenAI-Organization</c> and <c>OpenAI-Project</c>.</summary>
    public Dictionary<string, string> Headers { get; init; } = [];

    /// <summary>A kill switch: a feature flag under <c>FeatureManagement</c> that, while on, keeps every call away from this provider.</summary>
    public string? OffFlag { get; init; }
}
