using Gateway.Auth;
using Microsoft.AspNetCore.DataProtection;
using Gateway.Errors;
using Gateway.Health;
using Gateway.Limiting;
using Gateway.Hosting.OpenApi;
using Gateway.Routing;
using Gateway.Secrets;
using Gateway.Telemetry;
using Gateway.Transforms;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Headers;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Hosting;

/// <summary>Builds the gateway application: services, middleware and endpoints.</summary>
public static class GatewayApp
{
    /// <summary>Creates the app from command-line arguments; <paramref name="configure"/> lets tests add to the builder.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        var configFiles = builder.AddGatewayConfigFiles();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        var secrets = new SecretRegistry();
        builder.Services.AddSingleton(secrets);
        builder.Services.AddGateway(builder.Configuration);
        configure?.Invoke(builder);
        // Last, so providers added by the host or by tests are wrapped too.
        RedactingLoggerProvider.WrapAll(builder.Services, secrets);

        var app = builder.Build();
        // The configuration does not own the file provider it was given: release its file watch (an inotify instance) with the app.
        app.Lifetime.ApplicationStopped.Register(configFiles.Dispose);
        configFiles.ReportTo(app.Services.GetRequiredService<ConfigStatus>(), app.Services.GetRequiredService<ILogger<ConfigFileSet>>());
        // Fail start-up on invalid settings, with every error listed, rather than on the first request.
        app.Services.GetRequiredService<GatewaySettingsMonitor>();
        app.UseGateway();
        return app;
    }

    private static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        // YARP's session affinity brings in Data Protection; the gateway uses no affinity, so keys need not persist.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddSingleton<ConfigStatus>();
        services.AddSingleton<GatewaySettingsMonitor>();
        services.AddSingleton<ProblemWriter>();
        services.AddSingleton<IProblemResponder>(sp => sp.GetRequiredService<ProblemWriter>());
        services.AddSingleton<ClientKeyAuthenticator>();
        services.AddSingleton<ISecretSource, EnvironmentSecretSource>();
        services.AddSingleton<ISecretSource, FileSecretSource>();
        services.AddSingleton<ISecretSource, VaultSecretSource>();
        services.AddSingleton<VaultClient>();
        services.AddSingleton<SecretMetrics>();
        services.AddSingleton<SecretCache>();
        services.AddSingleton<ISecretStore>(sp => sp.GetRequiredService<SecretCache>());
        services.AddSingleton<SecretPoller>();
        services.AddHostedService(sp => sp.GetRequiredService<SecretPoller>());
        services.AddHostedService<FileSecretWatcher>();
        services.AddSingleton<IVendorKeySource, VendorKeySource>();
        services.AddSingleton<IProviderDirectory, ProviderDirectory>();
        services.AddSingleton<IProviderRequestHeaders, ProviderRequestHeaders>();
        services.AddSingleton<IConfigChangeListener, ProxyConfigReporter>();

        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddConfigFilter<ClusterDefaultsFilter>()
            .AddVendorTransforms()
            // Vendor calls carry traceparent, never the caller's tracestate or baggage.
            .ConfigureHttpClient((_, handler) => handler.ActivityHeadersPropagator = TraceparentOnlyPropagator.Instance);
        // A change that would leave no route is refused unless Gateway:Forwarding:AllowNoRoutes says otherwise.
        services.Decorate<IProxyConfigProvider>((sp, inner) => ActivatorUtilities.CreateInstance<RouteGuardConfigProvider>(sp, inner));

        services.AddGatewayLimiting(configuration);
        services.AddSingleton<GenAiMetrics>();
        services.AddGatewayTracing(configuration);
        services.AddGatewayHealth();
        return services;
    }

    private static void UseGateway(this WebApplication app)
    {
        app.UseMiddleware<CorrelationMiddleware>();
        app.UseMiddleware<UnhandledErrorMiddleware>();
        app.UseMiddleware<RequestGuardMiddleware>();

        app.MapGatewayHealth();
        app.MapOpenApiDocument();
        app.MapGatewayMetrics();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<CallerAuthenticationMiddleware>();
            proxy.UseMiddleware<PassthroughPolicyMiddleware>();
            proxy.UseMiddleware<RequestBodyLimitMiddleware>();
            proxy.UseMiddleware<TaskRequestMiddleware>();
            proxy.UseMiddleware<AdmissionMiddleware>();
            proxy.UseMiddleware<GenAiTelemetryMiddleware>();
            proxy.UseMiddleware<ForwarderProblemsMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
            proxy.UseMiddleware<VendorAuthRecoveryMiddleware>();
        });

        var problems = app.Services.GetRequiredService<ProblemWriter>();
        app.MapFallback(context => problems.WriteAsync(context, ErrorCodes.NotFound,
            "No gateway route matches this path; see /openapi/v1.json and the routes in config/."));
    }
}
