using Gateway.Hosting;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>
/// Refuses a ReverseProxy change that leaves no route (an emptied file, a deleted section), has a route whose cluster
/// is missing, or a route with an AuthorizationPolicy: the last good configuration keeps serving, the refusal is logged
/// and shown by readiness.
/// <c>Gateway:Forwarding:AllowNoRoutes</c> lets a change without routes through; at start-up either stops the process.
/// </summary>
internal sealed partial class RouteGuardConfigProvider(
    IProxyConfigProvider inner, GatewaySettingsMonitor settings, ConfigStatus status, ILogger<RouteGuardConfigProvider> logger) : IProxyConfigProvider
{
    private const string Part = "ReverseProxy routes";
    private const string Refusal = "the change leaves no route under ReverseProxy:Routes, which would answer 404 to every call; "
        + "set Gateway:Forwarding:AllowNoRoutes to true to allow it.";

    private IProxyConfig? _lastGood;
    private volatile bool _passiveHealthChecks;

    /// <summary>The configuration as read, before this guard's checks.</summary>
    public IProxyConfigProvider Inner => inner;

    /// <summary>Whether a cluster of the configuration last handed to the proxy enables passive health checks.</summary>
    public bool PassiveHealthChecks => _passiveHealthChecks;

    public IProxyConfig GetConfig()
    {
        var config = inner.GetConfig();
        var problems = Problems(config, () => settings.Current.AllowNoRoutes);
        if (problems.Count == 0)
        {
            _lastGood = config;
            status.Applied(Part);
            _passiveHealthChecks = AnyPassiveHealthChecks(config.Clusters);
            return config;
        }

        if (_lastGood is null)
        {
            throw new InvalidOperationException("The ReverseProxy configuration is refused: " + string.Join(" ", problems));
        }

        foreach (var problem in problems)
        {
            Log.Refused(logger, problem);
        }

        status.Rejected(Part, [.. problems.Select(p => "Refused: " + p)]);
        // The last routes again, but watching the new configuration's token, so the next change is seen.
        _passiveHealthChecks = AnyPassiveHealthChecks(_lastGood.Clusters);
        return new Snapshot(_lastGood.Routes, _lastGood.Clusters, config.ChangeToken);
    }

    private static bool AnyPassiveHealthChecks(IReadOnlyList<ClusterConfig> clusters)
        => clusters.Any(c => c.HealthCheck?.Passive?.Enabled == true);

    /// <summary>
    /// What makes a ReverseProxy configuration unusable beyond YARP's own checks: no route at all (unless allowed), a
    /// route whose cluster is missing — YARP would keep it and answer 503 to every call on it — or a route with an
    /// authorization policy, which nothing in the gateway would check (every call on it would fail).
    /// </summary>
    public static List<string> Problems(IProxyConfig config, Func<bool> allowNoRoutes)
    {
        var problems = new List<string>();
        if (config.Routes.Count == 0 && !allowNoRoutes())
        {
            problems.Add(Refusal);
        }

        var clusters = config.Clusters.Select(c => c.ClusterId).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var route in config.Routes)
        {
            if (string.IsNullOrEmpty(route.ClusterId))
            {
                problems.Add($"ReverseProxy:Routes:{route.RouteId} has no ClusterId; every route names one of ReverseProxy:Clusters.");
            }
            else if (!clusters.Contains(route.ClusterId))
            {
                problems.Add($"ReverseProxy:Routes:{route.RouteId} names cluster '{route.ClusterId}', which is not under ReverseProxy:Clusters (known: {string.Join(", ", clusters.Order(StringComparer.Ordinal))}).");
            }

            if (!string.IsNullOrEmpty(route.AuthorizationPolicy))
            {
                problems.Add($"ReverseProxy:Routes:{route.RouteId} sets AuthorizationPolicy '{route.AuthorizationPolicy}': callers are authenticated by client key (Gateway:Clients) and the gateway runs no ASP.NET Core authorization; remove it.");
            }
        }

        return problems;
    }

    private sealed record Snapshot(IReadOnlyList<RouteConfig> Routes, IReadOnlyList<ClusterConfig> Clusters, IChangeToken ChangeToken) : IProxyConfig;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "ReverseProxy configuration change refused, the last good routes keep serving: {Error}")]
        public static partial void Refused(ILogger logger, string error);
    }
}
