using Gateway.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Infrastructure;

/// <summary>A <see cref="GatewaySettingsMonitor"/> over in-memory configuration, for unit tests.</summary>
public static class TestSettings
{
    public static GatewaySettingsMonitor Monitor(Dictionary<string, string?> values, TimeProvider? time = null)
        => Reloadable(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), time);

    /// <summary>Over the given configuration: a test changes it and calls its Reload, as a file change would.</summary>
    public static GatewaySettingsMonitor Reloadable(IConfigurationRoot configuration, TimeProvider? time = null)
        => new(configuration, new TestHostEnvironment(), Gateway.Transforms.Vendors.VendorCatalog.Default,
            new ConfigStatus(time ?? TimeProvider.System), NullLogger<GatewaySettingsMonitor>.Instance);

    private sealed class TestHostEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";

        public string ApplicationName { get; set; } = "Gateway.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
