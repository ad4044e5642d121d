using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;

namespace Gateway.Hosting;

/// <summary>Loads every <c>*.json</c> file of the config/ folder, with reload on change, beneath environment variables.</summary>
internal static class ConfigFiles
{
    public const string DirectorySetting = "Gateway:ConfigDirectory";

    /// <summary>Adds the files; returns them as a set, which the caller reports on and disposes when the app stops.</summary>
    public static ConfigFileSet AddGatewayConfigFiles(this WebApplicationBuilder builder)
    {
        var directory = Locate(builder.Configuration[DirectorySetting], builder.Environment.ContentRootPath);
        var sources = builder.Configuration.Sources;

        // Environment variables and the command line keep overriding the files (e.g. Gateway__Clients__team-a__KeySha256).
        var index = sources.Count;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            {
                index = i;
                break;
            }
        }

        // No exclusions: the default leaves out dot-prefixed names, and a ConfigMap volume updates through "..data".
        var set = new ConfigFileSet(new PhysicalFileProvider(directory, ExclusionFilters.None));
        foreach (var path in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            sources.Insert(index++, new GuardedJsonConfigurationSource(set, Path.GetFileName(path)));
        }

        return set;
    }

    internal static string Locate(string? configured, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var full = Path.GetFullPath(configured, contentRoot);
            return Directory.Exists(full)
                ? full
                : throw new DirectoryNotFoundException($"{DirectorySetting} is '{configured}', but {full} does not exist.");
        }

        foreach (var candidate in new[] { Path.Combine(contentRoot, "config"), Path.Combine(contentRoot, "..", "config") })
        {
            if (Directory.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        throw new DirectoryNotFoundException($"No config/ folder next to {contentRoot}: set {DirectorySetting} (or Gateway__ConfigDirectory).");
    }
}
