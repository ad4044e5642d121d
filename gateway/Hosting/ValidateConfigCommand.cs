using Gateway.Routing;
using Gateway.Transforms.Vendors;
using Microsoft.Extensions.FileProviders;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Hosting;

/// <summary>
/// <c>validate-config [folder]</c>: the checks of start-up and reload on a config folder, without serving — every JSON
/// file parsed, the Gateway settings validated, the ReverseProxy routes and clusters validated by YARP and by the
/// gateway — and every error listed; exit code 1 when there is any, 0 when the folder would start (and reload) cleanly.
/// Environment variables override the files, as they do when the gateway runs. For the platform team's own CI, before a
/// <c>helm upgrade</c>.
/// </summary>
public static class ValidateConfigCommand
{
    /// <summary>True when the arguments ask for this command rather than for the server.</summary>
    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "validate-config";

    /// <summary>Runs the command; returns the process exit code (0 valid, 1 invalid, 2 usage).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length > 2 || args.Skip(1).Any(a => a.StartsWith('-')))
        {
            error.WriteLine("usage: validate-config [folder]   (default: Gateway:ConfigDirectory, else config/ next to the app)");
            return 2;
        }

        string folder;
        try
        {
            // Relative to the current folder, as the gateway resolves its own (its content root is where it starts).
            folder = ConfigFiles.Locate(args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("Gateway__ConfigDirectory"), Directory.GetCurrentDirectory());
        }
        catch (DirectoryNotFoundException ex)
        {
            error.WriteLine(ex.Message);
            return 2;
        }

        var errors = await ValidateAsync(folder);
        if (errors.Count == 0)
        {
            output.WriteLine($"{folder}: valid (every file parses; Gateway settings and ReverseProxy routes and clusters pass the start-up checks).");
            return 0;
        }

        error.WriteLine($"{folder}: {errors.Count} error{(errors.Count == 1 ? "" : "s")}:");
        foreach (var problem in errors)
        {
            error.WriteLine("  - " + problem);
        }

        return 1;
    }

    /// <summary>Every error the gateway would refuse the folder for, at start-up or on reload.</summary>
    public static async Task<List<string>> ValidateAsync(string folder)
    {
        var errors = new List<string>();
        var configuration = Configuration(folder, errors);
        var environment = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Production;
        var settings = GatewaySettingsMonitor.Load(configuration, environment, VendorCatalog.Default, out var settingsErrors);
        errors.AddRange(settingsErrors);
        errors.AddRange(settings is not null && errors.Count == 0
            ? await ProxyErrorsOfTheAppAsync(folder, settings)
            : await ProxyErrorsAsync(configuration, settings));
        return errors;
    }

    /// <summary>
    /// The folder's JSON files (those that parse; the others' problems added to <paramref name="errors"/>) with the
    /// environment's variables over them, as the gateway reads its configuration.
    /// </summary>
    public static IConfiguration Configuration(string folder, List<string> errors)
    {
        var builder = new ConfigurationBuilder();
        using (var files = new PhysicalFileProvider(folder))
        {
            // The files that parse are checked together, so one broken file does not hide the others' errors.
            foreach (var path in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                var data = GuardedJsonConfigurationProvider.Read(files, folder, Path.GetFileName(path), out var problem);
                if (data is null)
                {
                    errors.Add(problem);
                }
                else
                {
                    builder.AddInMemoryCollection(data);
                }
            }
        }

        return builder.AddEnvironmentVariables().Build();
    }

    // With valid settings, the gateway itself (not started): YARP's validation with every transform provider of the
    // gateway, and its config filters — exactly what start-up runs.
    private static async Task<List<string>> ProxyErrorsOfTheAppAsync(string folder, GatewaySettings settings)
    {
        await using var app = GatewayApp.Build([$"--{ConfigFiles.DirectorySetting}={folder}", "--Logging:LogLevel:Default=None"]);
        return await CheckAsync(app.Services, settings);
    }

    // Otherwise YARP's own validation, which needs no Gateway settings (the cluster-to-provider bindings are checked
    // once the settings are valid).
    private static async Task<List<string>> ProxyErrorsAsync(IConfiguration configuration, GatewaySettings? settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddReverseProxy().LoadFromConfig(configuration.GetSection("ReverseProxy"));
        await using var provider = services.BuildServiceProvider();
        return await CheckAsync(provider, settings);
    }

    private static async Task<List<string>> CheckAsync(IServiceProvider services, GatewaySettings? settings)
    {
        IProxyConfig config;
        try
        {
            // The inner provider: the route guard's refusals are listed below, with the others.
            config = services.GetServices<IProxyConfigProvider>().Last() is var provider && provider is RouteGuardConfigProvider guard
                ? guard.Inner.GetConfig()
                : provider.GetConfig();
        }
        catch (Exception ex)
        {
            return ["ReverseProxy: " + ex.Message + (ex.InnerException is null ? "" : " " + ex.InnerException.Message)];
        }

        var errors = RouteGuardConfigProvider.Problems(config, () => settings?.AllowNoRoutes == true);
        var validator = services.GetRequiredService<IConfigValidator>();
        var filters = services.GetServices<IProxyConfigFilter>().ToList();
        foreach (var route in config.Routes)
        {
            errors.AddRange((await validator.ValidateRouteAsync(route)).Select(e => $"ReverseProxy:Routes:{route.RouteId}: {e.Message}"));
        }

        foreach (var cluster in config.Clusters)
        {
            var filtered = cluster;
            try
            {
                foreach (var filter in filters)
                {
                    filtered = await filter.ConfigureClusterAsync(filtered, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                errors.Add($"ReverseProxy:Clusters:{cluster.ClusterId}: {ex.Message}");
                continue;
            }

            errors.AddRange((await validator.ValidateClusterAsync(filtered)).Select(e => $"ReverseProxy:Clusters:{cluster.ClusterId}: {e.Message}"));
        }

        return errors;
    }
}
