using Gateway.Hosting;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>
/// Refuses a ReverseProxy change that leaves no route (an emptied file, a deleted section): the last configuration
/// with routes keeps serving, the refusal is logged and shown by readiness. <c>Gateway:Forwarding:AllowNoRoutes</c>
/// lets such a change through; at start-up a configuration without routes stops the process unless it is set.
/// </summary>
internal sealed partial class RouteGuardConfigProvider(
    IProxyConfigProvider inner, GatewaySettingsMonitor settings, ConfigStatus status, ILogger<RouteGuardConfigProvider> logger) : IProxyConfigProvider
{
    private const string Part = "ReverseProxy routes";
    private const string Refusal = "the change leaves no route under ReverseProxy:Routes, which would answer 404 to every call; "
        + "set Gateway:Forwarding:AllowNoRoutes to true to allow it.";

    private IProxyConfig? _lastWithRoutes;

    public IProxyConfig GetConfig()
    {
        var config = inner.GetConfig();
        if (config.Routes.Count > 0 || settings.Current.AllowNoRoutes)
        {
            _lastWithRoutes = config;
            status.Applied(Part);
            return config;
        }

        if (_lastWithRoutes is null)
        {
            throw new InvalidOperationException("The ReverseProxy configuration is refused: " + Refusal);
        }

        Log.NoRoutes(logger, Refusal);
        status.Rejected(Part, ["Refused: " + Refusal]);
        // The last routes again, but watching the new configuration's token, so the next change is seen.
        return new Snapshot(_lastWithRoutes.Routes, _lastWithRoutes.Clusters, config.ChangeToken);
    }

    private sealed record Snapshot(IReadOnlyList<RouteConfig> Routes, IReadOnlyList<ClusterConfig> Clusters, IChangeToken ChangeToken) : IProxyConfig;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "ReverseProxy configuration change refused, the last good routes keep serving: {Error}")]
        public static partial void NoRoutes(ILogger logger, string error);
    }
}
