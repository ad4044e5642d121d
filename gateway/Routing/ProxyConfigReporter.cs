using Gateway.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>
/// Reports what happened to each ReverseProxy configuration change: a refused change is logged with every error
/// (YARP keeps the last good configuration serving) and shown by readiness.
/// </summary>
internal sealed partial class ProxyConfigReporter(ConfigStatus status, ILogger<ProxyConfigReporter> logger) : IConfigChangeListener
{
    private const string Part = "ReverseProxy";

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) => Refused(exception);

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
    }

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception) => Refused(exception);

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs) => status.Applied(Part);

    private void Refused(Exception exception)
    {
        var errors = exception is AggregateException aggregate
            ? aggregate.Flatten().InnerExceptions.Select(e => e.Message).ToList()
            : [exception.Message];
        foreach (var error in errors)
        {
            Log.ProxyConfigRefused(logger, error);
        }

        status.Rejected(Part, errors);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "ReverseProxy configuration change refused, the last good routes keep serving: {Error}")]
        public static partial void ProxyConfigRefused(ILogger logger, string error);
    }
}
