namespace Gateway.Hosting;

/// <summary>The feature flags configuration defines, in either schema Microsoft.FeatureManagement reads.</summary>
internal static class FeatureFlags
{
    public const string Section = "FeatureManagement";

    public static IReadOnlySet<string> Defined(IConfiguration configuration)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var flag in configuration.GetSection(Section).GetChildren())
        {
            names.Add(flag.Key);
        }

        // The Microsoft schema: feature_management:feature_flags:[i]:id.
        foreach (var flag in configuration.GetSection("feature_management:feature_flags").GetChildren())
        {
            if (flag["id"] is { Length: > 0 } id)
            {
                names.Add(id);
            }
        }

        return names;
    }
}
