using System.Text.Json;
using Gateway.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;

namespace Gateway.Health;

/// <summary><c>/healthz/live</c> (the process answers) and <c>/healthz/ready</c> (routes loaded, configuration state).</summary>
internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ConfigurationHealthCheck>("configuration", tags: [ReadyTag])
            .AddCheck<SecretsHealthCheck>("secrets", tags: [ReadyTag])
            .AddCheck<ShutdownHealthCheck>("shutdown", tags: [ReadyTag]);
        return services;
    }

    public static void MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithMetadata(Gateway.Telemetry.OperationsEndpoint.Instance);
        endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithMetadata(Gateway.Telemetry.OperationsEndpoint.Instance);
    }

    private static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync();
    }

    /// <summary>
    /// Ready once at least one provider has a key: while some providers' keys are not resolved yet, Degraded naming them
    /// (their calls answer vendor_key_missing; the others serve), Unhealthy only when no provider can serve — so one
    /// missing key does not take every pod out of service for every provider. <c>Gateway:Secrets:StrictReadiness</c>
    /// waits for every secret instead. Degraded too while a secret cannot be read again but its last good value keeps
    /// serving. Names references and errors, never a value.
    /// </summary>
    private sealed class SecretsHealthCheck(Gateway.Secrets.SecretCache cache, GatewaySettingsMonitor settings) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var current = settings.Current;
            var status = cache.Status(current.SecretReferences);
            var unresolved = status.Where(s => !s.Resolved).ToList();
            if (unresolved.Count > 0)
            {
                var pending = "Not resolved yet: " + string.Join("; ", unresolved.Select(s => $"{s.Reference} ({s.Error})"));
                var resolved = status.Where(s => s.Resolved).Select(s => s.Reference).ToHashSet();
                var serving = current.Providers.Where(p => p.Value.ApiKeys.Any(resolved.Contains)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
                if (current.Secrets.StrictReadiness || serving.Count == 0)
                {
                    return Task.FromResult(HealthCheckResult.Unhealthy(
                        (serving.Count == 0 ? "No provider has a key. " : "Every secret must be resolved (Gateway:Secrets:StrictReadiness). ") + pending));
                }

                var without = current.Providers.Keys.Except(serving, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
                return Task.FromResult(HealthCheckResult.Degraded(
                    $"Serving {string.Join(", ", serving)}; without a key yet: {(without.Count == 0 ? "none" : string.Join(", ", without))}. " + pending));
            }

            var failing = status.Where(s => s.Error is not null).ToList();
            return Task.FromResult(failing.Count > 0
                ? HealthCheckResult.Degraded("Serving the last good value of: " + string.Join("; ", failing.Select(s => $"{s.Reference} ({s.Error})")))
                : HealthCheckResult.Healthy($"{status.Count} secret(s) resolved."));
        }
    }

    /// <summary>Unhealthy from the moment the gateway is told to stop, so no new call is sent to it while it drains.</summary>
    private sealed class ShutdownHealthCheck(GracefulShutdown shutdown) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(shutdown.Draining
                ? HealthCheckResult.Unhealthy("Stopping: calls in flight are finishing; send new calls elsewhere.")
                : HealthCheckResult.Healthy("Running."));
    }

    /// <summary>Healthy with routes loaded; Degraded (still serving) when the last configuration change was refused.</summary>
    private sealed class ConfigurationHealthCheck(IProxyStateLookup proxy, ConfigStatus status) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!proxy.GetRoutes().Any())
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("No routes are loaded."));
            }

            var rejections = status.Rejections;
            if (rejections.Count == 0)
            {
                return Task.FromResult(HealthCheckResult.Healthy("Configuration loaded."));
            }

            var text = string.Join("; ", rejections.Select(r => $"{r.Key} change refused at {r.Value.At:O}: {string.Join(" | ", r.Value.Errors)}"));
            return Task.FromResult(HealthCheckResult.Degraded("Serving the last good configuration. " + text));
        }
    }
}
