using Gateway.Transforms.Vendors;
using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>
/// Holds the current <see cref="GatewaySettings"/>. Start-up fails on invalid settings with every error listed; a later
/// invalid change is refused, every error is logged and the last good settings keep serving.
/// </summary>
public sealed partial class GatewaySettingsMonitor : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly string _hostEnvironment;
    private readonly VendorCatalog _vendors;
    private readonly ConfigStatus _status;
    private readonly ILogger<GatewaySettingsMonitor> _logger;
    private readonly IDisposable _subscription;
    private volatile GatewaySettings _current;

    public GatewaySettingsMonitor(IConfiguration configuration, IHostEnvironment environment, VendorCatalog vendors, ConfigStatus status, ILogger<GatewaySettingsMonitor> logger)
    {
        _configuration = configuration;
        _hostEnvironment = environment.EnvironmentName;
        _vendors = vendors;
        _status = status;
        _logger = logger;
        _current = Load(configuration, _hostEnvironment, vendors, out var errors)
            ?? throw new InvalidOperationException("The Gateway configuration is invalid:" + System.Environment.NewLine + string.Join(System.Environment.NewLine, errors));
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The settings in force.</summary>
    public GatewaySettings Current => _current;

    /// <summary>Binds and validates the section; null with the errors when it is invalid.</summary>
    public static GatewaySettings? Load(IConfiguration configuration, string hostEnvironment, VendorCatalog vendors, out List<string> errors)
    {
        GatewayOptions options;
        try
        {
            options = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder throws on values of the wrong type (e.g. "ten" for a number); report it like any other error.
            errors = [ex.Message + (ex.InnerException is null ? "" : " " + ex.InnerException.Message)];
            return null;
        }

        return GatewaySettingsValidator.Build(options, hostEnvironment, vendors, FeatureFlags.Defined(configuration), out errors);
    }

    private void Reload()
    {
        var settings = Load(_configuration, _hostEnvironment, _vendors, out var errors);
        if (settings is null)
        {
            foreach (var error in errors)
            {
                Log.SettingsRejected(_logger, error);
            }

            _status.Rejected("Gateway", errors);
            return;
        }

        _current = settings;
        _status.Applied("Gateway");
    }

    public void Dispose() => _subscription.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Configuration change refused, the last good Gateway settings keep serving: {Error}")]
        public static partial void SettingsRejected(ILogger logger, string error);
    }
}
